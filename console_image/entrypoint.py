"""The console image's entrypoint: the console as one unit (`python -m console`: the worker
beside Streamlit, supervised together), the UI on 0.0.0.0:$PORT for the names it is served as.

One container running a supervised pair rather than a worker sidecar: the worker and the UI
share one image, one revision and one lifetime (Cloud Run's SIGTERM reaches the supervisor,
which stops both), and the worker needs the instance's CPU between requests, which the
console service has anyway (min 1 instance, CPU always allocated).

Cloud Run sends requests to $PORT on every interface, so the console cannot listen on
loopback there; `console/_host_guard.py` then refuses to serve unless
`LIGHTONOCR_CONSOLE_HOSTS` names the hosts the console is reached by (the service's run.app
names, set by `python -m deploy console apply`). Those same names become Streamlit's
`server.allowedHosts`, so a websocket handshake for any other Host is refused before the
app runs. Without them the container exits at once with one line saying why, instead of
serving a page that refuses everyone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from console._host_guard import HOSTS_ENV, extra_hosts

DEFAULT_PORT = "8080"  # Cloud Run's default $PORT


class MissingHosts(SystemExit):
    def __init__(self) -> None:
        super().__init__(
            f"console image: {HOSTS_ENV} is empty; name the host(s) the console is served as "
            "(python -m deploy console apply sets them)"
        )


def command(env: Mapping[str, str]) -> list[str]:
    """The `python -m console` command line (Streamlit's options pass through it)."""
    hosts = sorted(extra_hosts(env))
    if not hosts:
        raise MissingHosts()
    port = env.get("PORT") or DEFAULT_PORT
    address = env.get("LIGHTONOCR_CONSOLE_ADDRESS") or "0.0.0.0"
    argv = [
        sys.executable,
        "-m",
        "console",
        *("--server.address", address),
        *("--server.port", port),
        *("--server.headless", "true"),
        *("--server.fileWatcherType", "none"),
        *("--server.maxUploadSize", "200"),
        *("--client.toolbarMode", "viewer"),
    ]
    for host in hosts:
        argv += ["--server.allowedHosts", host]
    return argv


def main() -> None:
    argv = command(os.environ)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
