"""Where the OCR service runs: `local` (embedded default) or `cloudrun`.

`select_platform` reads the environment:

| variable                | meaning                                                 | default     |
| ----------------------- | ------------------------------------------------------- | ----------- |
| LIGHTONOCR_SERVICE_URL  | the Cloud Run service's URL (selects cloudrun)          | none: local |
| GOOGLE_CLOUD_PROJECT    | the project the cloudrun platform manages               | none        |
| LIGHTONOCR_REGION       | Cloud Run region (read by the cloudrun platform)        | see deploy  |
| LIGHTONOCR_SERVICE      | Cloud Run service name (read by the cloudrun platform)  | see deploy  |
| LIGHTONOCR_LOCAL_PORT   | port of the local OCR server on 127.0.0.1               | 8000        |
| LIGHTONOCR_LOCAL_ENGINE | local engine: rapidocr, or simulated (fast, for tests)  | rapidocr    |
| LIGHTONOCR_DATA_DIR     | the console's store and the local server's log          | .lightonocr |
| LIGHTONOCR_MODEL        | also the local server's --served-model-name when set    | see ocr_core |

A LIGHTONOCR_SERVICE_URL on loopback (127.0.0.0/8, ::1, localhost) means a local server on that
port, so the local platform is used (it reuses a server already running there). Any other
URL is the Cloud Run service; without GOOGLE_CLOUD_PROJECT the cloudrun platform can still
OCR but reports that it cannot manage the service.

The platform modules are imported lazily: the cloudrun one pulls in the google-cloud
clients, which a local console does not need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from console._loopback import LOOPBACK_ADDRESS, is_loopback
from console.platforms._base import (
    SEVERITIES,
    THRESHOLDS,
    ActionResult,
    LogEntry,
    LogQuery,
    LogTail,
    MetricKey,
    MetricSeries,
    Platform,
    Revision,
    ServiceState,
    ServiceStatus,
    WarmUpMeasurement,
)
from console.settings import DEFAULT_LOCAL_PORT, ConsoleSettings

__all__ = [
    "SEVERITIES",
    "THRESHOLDS",
    "ActionResult",
    "LogEntry",
    "LogQuery",
    "LogTail",
    "MetricKey",
    "MetricSeries",
    "Platform",
    "Revision",
    "ServiceState",
    "ServiceStatus",
    "WarmUpMeasurement",
    "select_platform",
]

if TYPE_CHECKING:
    from console._store import Store


def select_platform(
    env: Mapping[str, str] | None = None, *, store: Store | None = None, background: bool = True
) -> Platform:
    """Cloud Run when a remote service URL is set, else the local server.

    `store` is where the local platform keeps its samples and floor; by default the store in
    LIGHTONOCR_DATA_DIR. `background`: the platform keeps the local server up and samples
    it (the worker's); without, it only reads and acts when asked (the UI's).
    """
    env = os.environ if env is None else env
    console = ConsoleSettings.from_env(env)
    url = urlsplit(console.base_url or "")
    if url.hostname and not is_loopback(url.hostname):
        from console.platforms.cloudrun import CloudRunPlatform

        return CloudRunPlatform.from_env(env)

    from console._store import Store
    from console.platforms.local import LocalPlatform
    from ocr_core import DEFAULT_MODEL, ClientSettings

    data_dir = console.data_folder
    settings = ClientSettings.from_env(env)
    server_args = ["--engine", console.local_engine]
    if settings.model != DEFAULT_MODEL:  # the local server serves DEFAULT_MODEL's name
        server_args += ["--served-model-name", settings.model]
    port = url.port if url.hostname else None
    return LocalPlatform(
        host=LOOPBACK_ADDRESS,
        port=port or console.local_port or DEFAULT_LOCAL_PORT,
        data_dir=data_dir,
        server_args=server_args,
        store=store if store is not None else Store.in_dir(data_dir),
        client_settings=settings,
        background=background,
    )
