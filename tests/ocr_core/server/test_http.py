"""Connections whose request headers never complete are closed (issue 10, row L4)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.local_server import LocalServer, start_local_server

from ._hostile import connect, read_response, status_of


@pytest.fixture(scope="module")
def impatient_server() -> Iterator[LocalServer]:
    with start_local_server(
        "--engine", "simulated", "--service-time", "0", "--header-timeout", "1"
    ) as server:
        yield server


def test_trickled_headers_are_cut_off_at_the_header_timeout(
    impatient_server: LocalServer,
) -> None:
    """L4: a client sending a header byte now and then held its connection forever."""
    started = time.monotonic()
    closed = False
    with connect(impatient_server, timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        for _ in range(20):  # one byte every 0.25 s: each under any idle timeout
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.25)
        answer = read_response(sock)
    elapsed = time.monotonic() - started
    assert closed or answer == b"", answer
    assert elapsed < 4


def test_a_silent_connection_is_closed_at_the_header_timeout(
    impatient_server: LocalServer,
) -> None:
    started = time.monotonic()
    with connect(impatient_server, timeout=10) as sock:
        assert read_response(sock) == b""
    assert time.monotonic() - started < 4


def test_a_kept_alive_connection_still_serves_its_next_request(
    impatient_server: LocalServer,
) -> None:
    with httpx.Client(base_url=impatient_server.base_url, timeout=10) as client:
        assert client.get("/health").status_code == 200
        time.sleep(0.5)
        assert client.get("/health").status_code == 200


def test_headers_sent_in_time_get_an_answer(impatient_server: LocalServer) -> None:
    with connect(impatient_server, timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status_of(read_response(sock)) == 200
