"""Connections whose request headers never complete are closed (issue 10, row L4)."""

from __future__ import annotations

import socket
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


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed the connection (end of stream or reset), False when the
    read timed out with the connection still open."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_trickled_headers_are_cut_off_at_the_header_timeout(
    impatient_server: LocalServer,
) -> None:
    """L4: a client sending a header byte now and then held its connection forever.

    One byte every 0.25 s (each under any idle timeout) for up to 30 s: only the 1 s header
    timeout can end it, so the connection being cut before the client stops is the proof.
    """
    with connect(impatient_server, timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(120):
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.25)  # the trickle itself (the client under test), not a wait
    assert closed, "the connection was still open after 30 s of trickled headers"


def test_a_silent_connection_is_closed_at_the_header_timeout(
    impatient_server: LocalServer,
) -> None:
    # The header timeout is 1 s; a read that gives up at 30 s tells closed from ignored.
    with connect(impatient_server, timeout=30) as sock:
        assert _closed_by_server(sock)


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
