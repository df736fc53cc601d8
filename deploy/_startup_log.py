"""A revision's startup log from Cloud Logging, for the canary's smoke check.

The Logging client comes in as an argument (tests hand in one on the fake Logging server);
`python -m deploy` builds the real one, or one on LIGHTONOCR_LOGGING_ENDPOINT (loopback only,
like LIGHTONOCR_RUN_ENDPOINT).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from deploy._spec import ServiceTarget
from deploy.settings import DeploySettings

if TYPE_CHECKING:  # the Logging library loads only when a canary reads a log
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client

# Enough for a vLLM start (a few hundred lines) with room for a noisy one.
MAX_LINES = 2000


def logging_client(env: Mapping[str, str]) -> LoggingServiceV2Client:
    import grpc
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.logging_v2.services.logging_service_v2.transports import (
        LoggingServiceV2GrpcTransport,
    )

    endpoint = DeploySettings.from_env(env).logging_endpoint or ""
    if endpoint:
        host = endpoint.rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            raise ValueError(f"LIGHTONOCR_LOGGING_ENDPOINT must be loopback, not {endpoint}")
        channel = grpc.insecure_channel(endpoint)
        return LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))
    return LoggingServiceV2Client()


def startup_messages(
    client: LoggingServiceV2Client, target: ServiceTarget, revision: str
) -> list[str]:
    """The revision's log messages, oldest first (any severity: the driver's complaint is a
    WARNING from torch and a DEFAULT line on stderr)."""
    filter_ = (
        'resource.type="cloud_run_revision" AND '
        f'resource.labels.service_name="{target.service}" AND '
        f'resource.labels.revision_name="{revision}"'
    )
    request = {
        "resource_names": [f"projects/{target.project}"],
        "filter": filter_,
        "order_by": "timestamp asc",
        "page_size": 500,
    }
    messages: list[str] = []
    for entry in client.list_log_entries(request=request):
        text = entry.text_payload or str(dict(entry.json_payload).get("message", ""))
        messages.append(text)
        if len(messages) >= MAX_LINES:
            break
    return messages
