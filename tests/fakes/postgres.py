"""A real PostgreSQL server for the tests, started in a temporary directory on loopback.

Debian's `postgresql` package (installed by `dev.py test`) provides initdb and pg_ctl; the
cluster is owned by the unprivileged `postgres` user because initdb refuses to run as root.
Nothing listens beyond 127.0.0.1, and the cluster is deleted when the session ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    # How to stop and start the same cluster again (an outage and its end, for the tests).
    control: tuple[str, ...] = ()

    def stop(self) -> None:
        """Stop the server at once (open connections are cut, as in a crash or failover)."""
        subprocess.run(
            [*self.control, "-m", "immediate", "-w", "stop"], check=True, capture_output=True
        )

    def start(self) -> None:
        """Start it again on the same port, with every committed row."""
        subprocess.run([*self.control, "-w", "-t", "60", "start"], check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver); trust auth on loopback needs no password."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            [_tool("createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user, name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


def _tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(
            f"PostgreSQL's {name} is missing: `python3 dev.py test` installs Debian's postgresql"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--"] if owner else []


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="lightonocr-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if owner:
        shutil.chown(root, owner)
        shutil.chown(sockets, owner)
    run = _as_owner(owner)
    port = _free_port()
    try:
        subprocess.run(
            [*run, _tool("initdb"), "-D", str(data), "-A", "trust", "-U", "ocr", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"
        control = (
            *run,
            _tool("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
        )
        server = PostgresServer("127.0.0.1", port, "ocr", control)
        server.start()
        try:
            yield server
        finally:
            subprocess.run(
                [*run, _tool("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["PostgresServer", "running_postgres"]
