"""Small readings of the Cloud Run service for the platform: what one instance is billed
for, and what to say when a warm-up finds the service still cold."""

from __future__ import annotations

from collections.abc import Mapping

from console.platforms._base import InstanceSize
from console.settings import MAX_IN_FLIGHT, ConsoleSettings
from deploy import InvalidSpec, ServiceInfo, ServiceTarget
from deploy._spec import parse_cpu, parse_memory
from ocr_core import AuthError, OCRError

MAX_IN_FLIGHT_ENV = MAX_IN_FLIGHT.name


def in_flight_limit(
    per_instance: int, ceiling: int | None, env: Mapping[str, str] | None = None
) -> int:
    """Requests a console keeps in flight to the service: each instance's slots (vLLM's
    --max-num-seqs, LIGHTONOCR_CONCURRENCY) times the instances the service may run, so a
    big job makes Cloud Run add L4s up to the ceiling (it adds one only when those it has are
    near their concurrency); LIGHTONOCR_MAX_IN_FLIGHT caps it. Before the ceiling is known:
    one instance's slots."""
    limit = per_instance * max(1, ceiling or 1)
    cap = ConsoleSettings.from_env(env).max_in_flight or 0
    return min(limit, cap) if cap > 0 else limit


def instance_size(info: ServiceInfo) -> InstanceSize | None:
    """The instance's GPUs, vCPUs and memory as deployed (None when the service says none)."""
    try:
        vcpus = parse_cpu(info.cpu) if info.cpu else None
        memory = parse_memory(info.memory) / 1024**3 if info.memory else None
    except InvalidSpec:
        return None
    if vcpus is None or memory is None:
        return None
    return InstanceSize(gpus=info.gpu_count, vcpus=vcpus, memory_gib=memory)


def cold_hint(
    error: OCRError | None,
    seconds: float,
    timeout_s: float,
    target: ServiceTarget,
    service_url: str,
    startup_window_s: float,
) -> str:
    """Why the warm-up failed, and the one thing to do about it."""
    message = str(error or "no answer")
    if isinstance(error, AuthError) and error.status_code is None:
        return message  # no ID token could be minted: ocr_core already says how to get one
    if isinstance(error, AuthError):
        return (
            f"Cloud Run refused the call ({message}). The caller's account needs "
            f"roles/run.invoker on {target.service} (`python -m deploy grant-invoker "
            f"--member serviceAccount:...`), and the ID token's audience must be the "
            f"service URL {service_url} (LIGHTONOCR_SERVICE_URL)."
        )
    return (
        f"The service is still cold after {seconds:.0f} s ({message}). Cloud Run gives the "
        f"model up to {startup_window_s:.0f} s to start (the service's startup probe): warm "
        f"up again, or read the Logs page for the startup probe; if no instance starts at "
        f"all, check the GPU quota in {target.region}. (Timeout was {timeout_s:g} s.)"
    )
