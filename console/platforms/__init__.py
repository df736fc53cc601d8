"""Where the OCR service runs: `local` (embedded default) or `cloudrun`.

`select_platform` reads the environment:

| variable                | meaning                                                 | default     |
| ----------------------- | ------------------------------------------------------- | ----------- |
| LIGHTONOCR_SERVICE_URL  | with GOOGLE_CLOUD_PROJECT: the Cloud Run service's URL  | none: local |
| GOOGLE_CLOUD_PROJECT    | with LIGHTONOCR_SERVICE_URL: selects cloudrun           | none        |
| LIGHTONOCR_REGION       | Cloud Run region (read by the cloudrun platform)        | see deploy  |
| LIGHTONOCR_SERVICE      | Cloud Run service name (read by the cloudrun platform)  | see deploy  |
| LIGHTONOCR_LOCAL_PORT   | port of the local OCR server on 127.0.0.1               | 8000        |
| LIGHTONOCR_LOCAL_ENGINE | local engine: rapidocr, or simulated (fast, for tests)  | rapidocr    |
| LIGHTONOCR_DATA_DIR     | the console's store and the local server's log          | .lightonocr |

The platform modules are imported lazily: the cloudrun one pulls in the google-cloud
clients, which a local console does not need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from console.platforms._base import Platform

if TYPE_CHECKING:
    from console._store import Store

DEFAULT_LOCAL_PORT = 8000
DEFAULT_LOCAL_ENGINE = "rapidocr"


def select_platform(
    env: Mapping[str, str] | None = None, *, store: Store | None = None
) -> Platform:
    """Cloud Run when a service URL and a project are set, else the local server.

    `store` is where the local platform keeps its samples and floor; by default the store in
    LIGHTONOCR_DATA_DIR.
    """
    env = os.environ if env is None else env
    if env.get("LIGHTONOCR_SERVICE_URL") and env.get("GOOGLE_CLOUD_PROJECT"):
        from console.platforms.cloudrun import CloudRunPlatform

        return CloudRunPlatform.from_env(env)

    from console._store import Store, data_dir_from_env
    from console.platforms.local import LocalPlatform

    data_dir = data_dir_from_env(env)
    return LocalPlatform(
        port=int(env.get("LIGHTONOCR_LOCAL_PORT") or DEFAULT_LOCAL_PORT),
        data_dir=data_dir,
        server_args=("--engine", env.get("LIGHTONOCR_LOCAL_ENGINE") or DEFAULT_LOCAL_ENGINE),
        store=store if store is not None else Store.in_dir(data_dir),
    )
