"""Building real LocalPlatforms for tests: simulated engine, free port, tmp data folder."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from console._store import Store
from console.platforms.local import LOG_NAME, LocalPlatform

SIMULATED = ("--engine", "simulated", "--service-time", "0.02")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def health(port: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code
    except httpx.HTTPError:
        return None


@contextmanager
def local_platforms(data_dir: Path) -> Iterator[Callable[..., LocalPlatform]]:
    """A factory of LocalPlatforms on one data folder; all are closed at the end.

    Defaults: floor 0 (nothing starts until a test asks), no background sampler, the
    simulated engine, a free port picked once for the folder.
    """
    port = free_port()
    made: list[LocalPlatform] = []

    def make(**overrides: Any) -> LocalPlatform:
        options: dict[str, Any] = {
            "port": port,
            "data_dir": data_dir,
            "server_args": SIMULATED,
            "sample_interval_s": 0.0,
            "default_floor": 0,
            "stop_grace_s": 5.0,
        }
        options.update(overrides)
        if "store" not in options:
            options["store"] = Store.in_dir(Path(options["data_dir"]))
        platform = LocalPlatform(**options)
        made.append(platform)
        return platform

    try:
        yield make
    finally:
        for platform in made:
            platform.close()


def append_lines(platform: LocalPlatform, *lines: str) -> None:
    """Lines written to the server's log as the server writes them."""
    with (platform.data_dir / LOG_NAME).open("a", encoding="utf-8") as log:
        for line in lines:
            log.write(line + "\n")


def json_line(severity: str, message: str, at: datetime | None = None) -> str:
    """A log line in the local server's JSON format."""
    stamp = (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return json.dumps({"time": stamp, "severity": severity, "logger": "t", "message": message})
