"""The local platform's answers to "which revision serves" and "what is in flight".

Locally there is one server process and nothing to route, so there is one pseudo-revision
(the process, with the engine it runs and the model revision its arguments name) and the
traffic actions say why they are unavailable. Requests in flight are read from the server's
own /metrics, with vLLM's gauge names, so the same reading works for `vllm serve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from console.platforms._base import ActionResult, Revision, ServiceStatus

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
METRICS_PATH = "/metrics"

TRAFFIC_UNAVAILABLE = ActionResult(
    False,
    "The local platform runs one OCR server, so there is no other revision to roll back to "
    "or split traffic with. Traffic is managed on Cloud Run (LIGHTONOCR_SERVICE_URL).",
)


def _flag(args: Sequence[str], name: str) -> str:
    """The value after `name` in a command line ("" when absent)."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return ""


def pseudo_revision(
    status: ServiceStatus, server_args: Sequence[str], started_at: datetime | None
) -> Revision:
    """The running server as the one revision that takes all the traffic."""
    engine = _flag(server_args, "--engine") or "default engine"
    return Revision(
        name=status.revision or "local (not running)",
        image=f"local OCR server ({engine})",
        digest="",
        model_revision=_flag(server_args, "--revision"),
        created=started_at,
        traffic_percent=100,
        ready=status.revision is not None,
    )


def in_flight_from_metrics(text: str) -> int | None:
    """Running plus waiting requests from Prometheus text (None when neither gauge is there)."""
    total: float | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (RUNNING, WAITING):
                total = (total or 0.0) + float(sample.value)
    return None if total is None else round(total)


def scrape_in_flight(http: httpx.Client, service_url: str) -> int | None:
    """The server's running + waiting requests now; None when it does not answer."""
    try:
        response = http.get(f"{service_url}{METRICS_PATH}")
        response.raise_for_status()
        return in_flight_from_metrics(response.text)
    except (httpx.HTTPError, ValueError):
        return None
