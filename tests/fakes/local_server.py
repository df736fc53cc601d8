"""Start the real local OCR server (`python -m ocr_core.server`) as a child process.

Many tests need a real vLLM-shaped server on loopback; this runs the actual CLI on a free
port with its JSON log in a temporary file, waits until `/health` says 200, and stops the
process on exit (and kills it if it ignores the polite signal).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A running server: where to reach it and where its log goes."""

    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ServerFailedToStart(RuntimeError):
    """The child exited or never became healthy; the message carries its log tail."""


def free_port() -> int:
    """A port nobody listens on now (the OS picks it; tiny race before the child binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(server: LocalServer, timeout_s: float) -> float:
    """Poll /health until 200; return the seconds it took. Raise with the log tail if not."""
    started = time.monotonic()
    deadline = started + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise ServerFailedToStart(
                    f"server exited with {server.process.returncode}:\n{server.log_text()[-3000:]}"
                )
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{server.base_url}/health").status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
    raise ServerFailedToStart(
        f"server not healthy after {timeout_s} s:\n{server.log_text()[-3000:]}"
    )


def wait_listening(server: LocalServer, timeout_s: float = 30.0) -> None:
    """Wait until the port accepts connections (health may still say 503)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailedToStart(f"server exited:\n{server.log_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=0.5),
        ):
            return
        time.sleep(0.02)
    raise ServerFailedToStart(f"server not listening after {timeout_s} s")


@contextlib.contextmanager
def start_local_server(
    *args: str, startup_timeout_s: float = 60.0, wait: bool = True
) -> Iterator[LocalServer]:
    """Run `python -m ocr_core.server --host 127.0.0.1 --port P *args`.

    With `wait=False` it returns as soon as the port accepts connections, so a test can
    watch the cold start (`/health` 503 then 200) itself.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ocr-local-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ocr_core.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    *args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = LocalServer(f"http://127.0.0.1:{port}", port, process, log_path)
        try:
            if wait:
                wait_healthy(server, startup_timeout_s)
            else:
                wait_listening(server, startup_timeout_s)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
