"""Request bodies from hostile clients: size, time and JSON shape are bounded (issue 10)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes.local_server import LocalServer, start_local_server

from ._hostile import MB, connect, peak_rss, read_response, status_of
from ._requests import blank_page, chat_body

CHAT = "/v1/chat/completions"


def _assert_vllm_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == status
    return str(error["message"])


def test_a_chunked_body_stops_at_the_cap_without_being_buffered(
    simulated_server: LocalServer,
) -> None:
    """M2: 1000 MB sent chunked used to be buffered whole (2.4 GB) before the 413."""
    before = peak_rss(simulated_server)
    chunk = b"0" * MB
    sent = 0
    with connect(simulated_server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < 1000 * MB:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed the connection: it stopped reading
        response = read_response(sock)
    growth = peak_rss(simulated_server) - before
    assert sent < 200 * MB, f"the server kept reading: {sent // MB} MB accepted"
    assert growth < 250 * MB, f"the server grew by {growth // MB} MB"
    if response:  # the 413 may be lost when the socket is reset under the sender
        assert status_of(response) == 413
        assert b'"code":413' in response


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    simulated_server: LocalServer,
) -> None:
    with connect(simulated_server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 999999999999\r\n\r\n{"
        )
        response = read_response(sock)
    assert status_of(response) == 413
    assert b"Connection: close" in response or b"connection: close" in response


@pytest.mark.parametrize("depth", [100_000, 5_000], ids=["over-the-value-cap", "deep-nesting"])
def test_deeply_nested_json_is_a_json_400(simulated_server: LocalServer, depth: int) -> None:
    """L2: `[` x 100000 raised an uncaught RecursionError, a plain-text 500."""
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}",
        content=b"[" * depth,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert "error parsing the body" in _assert_vllm_error(response, 400)


def test_json_that_would_swell_in_memory_is_refused_unparsed(
    simulated_server: LocalServer,
) -> None:
    """`{},` is 3 bytes on the wire and ~60 in Python: 40 MB of it would take over 1 GB."""
    before = peak_rss(simulated_server)
    body = b'{"messages": [' + b"{}," * (13 * MB) + b"{}]}"
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}",
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    _assert_vllm_error(response, 400)
    growth = peak_rss(simulated_server) - before
    assert growth < 300 * MB, f"the server grew by {growth // MB} MB"


def test_a_body_that_never_arrives_in_full_is_a_408_after_the_body_timeout() -> None:
    """L4: a Content-Length larger than the body sent held the request forever."""
    # The read gives up at 30 s; an answer before then can only be the 1 s body timeout.
    with (
        start_local_server("--engine", "simulated", "--body-timeout", "1") as server,
        connect(server, timeout=30) as sock,
    ):
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model"'
        )
        response = read_response(sock)
    assert status_of(response) == 408
    assert b'"code":408' in response


def test_a_body_that_is_not_declared_json_is_a_400_as_in_vllm(
    simulated_server: LocalServer,
) -> None:
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}",
        content=json.dumps(chat_body(blank_page())),
        headers={"content-type": "text/plain"},
        timeout=30,
    )
    assert "application/json" in _assert_vllm_error(response, 400)


def test_clients_trickling_their_bodies_hold_no_place_in_the_queue() -> None:
    """Issue 20: 100 connections trickling bodies got a normal request a 429 at once."""
    # One slot and one waiting place: a slow sender admitted early would take them both.
    with start_local_server(
        "--engine",
        "simulated",
        "--max-num-seqs",
        "1",
        "--max-waiting",
        "1",
        "--body-timeout",
        "60",
    ) as server:
        slow = [connect(server) for _ in range(20)]
        for sock in slow:
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model"'
            )
        answer = httpx.post(f"{server.base_url}{CHAT}", json=chat_body(blank_page()), timeout=60)
        for sock in slow:
            sock.close()
    assert answer.status_code == 200, answer.text
