"""Tools for the hostile-request tests: raw sockets and the server child's memory."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tests.fakes.local_server import LocalServer

MB = 1024 * 1024


def peak_rss(server: LocalServer) -> int:
    """The server process's peak resident memory so far (bytes), as the kernel counts it."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


def connect(server: LocalServer, timeout: float = 30.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (b"" if it sent nothing)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def status_of(response: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    return int(match.group(1)) if match else None
