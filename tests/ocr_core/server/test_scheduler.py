"""Backpressure and cancellation: a full queue answers 429, a client that leaves frees its slot."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from tests.fakes.local_server import LocalServer, start_local_server
from tests.waits import eventually, eventually_async, log_records

from ._hostile import MB, connect, peak_rss, status_of
from ._requests import blank_page, chat_body
from .test_server_process import metric_samples, value

CHAT = "/v1/chat/completions"


def _load(server: LocalServer) -> tuple[float, float]:
    samples = metric_samples(server.base_url)
    return value(samples, "vllm:num_requests_running"), value(samples, "vllm:num_requests_waiting")


async def _wait_for_load(server: LocalServer, running: int, waiting: int) -> None:
    await eventually_async(
        lambda: _load(server) == (running, waiting),
        interval_s=0.05,
        what=f"the load reaching {running} running, {waiting} waiting",
    )


async def test_a_full_queue_answers_429_with_retry_after_and_vllms_error_shape() -> None:
    """M3: the waiting queue was unbounded; a flood was never told to back off."""
    with start_local_server(
        "--engine", "simulated", "--service-time", "3", "--max-num-seqs", "1", "--max-waiting", "1"
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            admitted = [
                asyncio.create_task(client.post(CHAT, json=chat_body(blank_page())))
                for _ in range(2)
            ]
            await _wait_for_load(server, running=1, waiting=1)
            refused = await client.post(CHAT, json=chat_body(blank_page()))
            answers = await asyncio.gather(*admitted)
    assert [a.status_code for a in answers] == [200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == 429


async def test_closed_client_requests_free_their_slots_at_once() -> None:
    """Issue 8: abandoned requests kept running and waiting for their full service time.

    The service time is 60 s and the wait for the slots to free gives up at 30 s: a freed
    slot can only be the cancellation's doing, however slow the machine is."""
    with start_local_server(
        "--engine", "simulated", "--service-time", "60", "--max-num-seqs", "2"
    ) as server:
        client = httpx.AsyncClient(base_url=server.base_url, timeout=120)
        pending = [
            asyncio.create_task(client.post(CHAT, json=chat_body(blank_page()))) for _ in range(4)
        ]
        await _wait_for_load(server, running=2, waiting=2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await client.aclose()
        await eventually_async(
            lambda: _load(server) == (0, 0), timeout_s=30, interval_s=0.1, what="freed slots"
        )
        # The freed slots take new work at once.
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as again:
            task = asyncio.create_task(again.post(CHAT, json=chat_body(blank_page())))
            await _wait_for_load(server, running=1, waiting=0)
            task.cancel()

        def gone() -> int:  # the lines are written as each request is torn down
            records = log_records(server.log_text())
            return sum(r["message"].startswith("client went away") for r in records)

        await eventually_async(lambda: gone() >= 4, what="four 'client went away' lines")
        went_away = gone()
    assert went_away >= 4


def test_many_large_bodies_at_once_share_one_memory_budget() -> None:
    """Each body is under the 50 MB cap; twelve at once would hold 480 MB without a budget."""
    body_mb = 40
    with start_local_server(
        "--engine", "simulated", "--max-waiting", "30", "--body-timeout", "20"
    ) as server:
        before = peak_rss(server)
        sockets = []
        chunk = b"0" * MB
        for _ in range(12):
            sock = connect(server)
            sockets.append(sock)
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % ((body_mb + 5) * MB)
            )
            try:
                for _ in range(body_mb):  # all but the last 5 MB: the request stays open
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        # A refused body is answered 429 at once; an admitted one waits for its last 5 MB (no
        # answer before the 20 s body timeout). Read what has come, until five refusals.
        answers = dict.fromkeys(sockets, b"")
        for sock in sockets:
            sock.setblocking(False)

        def refusals() -> int:
            for sock in sockets:
                with contextlib.suppress(BlockingIOError, ConnectionResetError):
                    answers[sock] += sock.recv(65536)
            return sum(status_of(answer) == 429 for answer in answers.values())

        eventually(lambda: refusals() >= 5, timeout_s=15, what="five refusals")
        refused = sum(status_of(answer) == 429 for answer in answers.values())
        growth = peak_rss(server) - before
        for sock in sockets:
            sock.close()
    assert refused >= 5, f"only {refused} of 12 refused"
    assert growth < 450 * MB, f"the server grew by {growth // MB} MB"
