"""A streamed request is answered with its headers when admitted, before its turn, as vLLM
does; a client that hangs up is logged and counted as an abandoned request; the server
states how many pages it runs at once so clients send no more."""

from __future__ import annotations

import asyncio
import json
import os

import httpx

from ocr_core import ClientSettings, OCRClient
from ocr_core.server.__main__ import default_slots
from tests.fakes.local_server import LocalServer, start_local_server
from tests.waits import eventually_async, log_records

from ._requests import blank_page, chat_body, data_uri, encode
from .test_scheduler import _load, _wait_for_load
from .test_server_process import metric_samples, value

CHAT = "/v1/chat/completions"


def _aborted(server: LocalServer) -> float:
    samples = metric_samples(server.base_url)
    return value(samples, "vllm:request_success_total", finished_reason="abort")


async def test_a_streamed_request_has_its_headers_before_its_turn_comes() -> None:
    # One slot, 60 s a page: the second request's headers can only come while it waits.
    with start_local_server(
        "--engine", "simulated", "--service-time", "60", "--max-num-seqs", "1"
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            body = chat_body(blank_page(), stream=True)
            first = await client.send(client.build_request("POST", CHAT, json=body), stream=True)
            second = await client.send(client.build_request("POST", CHAT, json=body), stream=True)
            load_at_headers = _load(server)
            await second.aclose()
            await first.aclose()
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["content-type"].startswith("text/event-stream")
    assert load_at_headers == (1, 1)  # one running, the other admitted and waiting its turn


async def test_a_client_hanging_up_on_a_streamed_request_is_logged_and_counted() -> None:
    with start_local_server(
        "--engine", "simulated", "--service-time", "60", "--max-num-seqs", "1"
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            body = chat_body(blank_page(), stream=True)
            held = await client.send(client.build_request("POST", CHAT, json=body), stream=True)
            await _wait_for_load(server, running=1, waiting=0)
            await held.aclose()
        await eventually_async(lambda: _aborted(server) == 1, what="one abort counted")
        await _wait_for_load(server, running=0, waiting=0)  # its slot is free again
        records = log_records(server.log_text())
    abandoned = [r for r in records if r.get("abandoned")]
    assert len(abandoned) == 1
    assert abandoned[0]["severity"] == "WARNING"
    assert "abandoned" in abandoned[0]["message"]


async def test_a_page_that_fails_after_the_headers_is_an_error_event_with_its_status() -> None:
    body = chat_body(data_uri(truncated_jpeg(), "image/jpeg"), stream=True)
    # Decoded at most 200 px wide, so the simulated engine's page is decoded (and fails).
    with start_local_server("--engine", "simulated", "--max-image-side", "200") as server:
        answer = httpx.post(f"{server.base_url}{CHAT}", json=body, timeout=60)
    assert answer.status_code == 200  # the headers went out when the request was admitted
    events = [line for line in answer.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    error = json.loads(events[0].removeprefix("data: "))["error"]
    assert error["code"] == 400
    assert "corrupt or truncated" in error["message"]


async def test_the_models_list_states_the_slots_and_the_client_follows_them() -> None:
    # No waiting room: a request beyond the two slots would be refused with 429 at once.
    with start_local_server(
        "--engine",
        "simulated",
        "--service-time",
        "0.5",
        "--max-num-seqs",
        "2",
        "--max-waiting",
        "0",
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            [entry] = (await client.get("/v1/models")).json()["data"]
        settings = ClientSettings(concurrency=8, max_attempts=1)
        async with OCRClient(server.base_url, settings=settings) as ocr:
            pages = await asyncio.gather(*(ocr.ocr_image(_png()) for _ in range(6)))
    assert entry["max_num_seqs"] == 2
    assert [page.error for page in pages] == [None] * 6


def test_the_cpu_engine_runs_one_page_per_core_by_default() -> None:
    assert default_slots("rapidocr") == len(os.sched_getaffinity(0))
    assert default_slots("simulated") == 8  # stands for vLLM's --max-num-seqs


def _png() -> bytes:
    from PIL import Image

    return encode(Image.new("RGB", (120, 80), "white"))


def truncated_jpeg() -> bytes:
    """A JPEG whose headers pass the server's checks and whose pixel data ends early (PNG's
    chunks are walked before admission; JPEG's scan data is only read when decoded)."""
    from PIL import Image

    page = encode(Image.effect_noise((400, 300), 64).convert("RGB"), "JPEG")
    return page[: len(page) * 6 // 10]


async def test_a_hung_up_streamed_request_gives_its_place_back() -> None:
    # One place in all: had the first request kept it, the second would be refused (429).
    with start_local_server(
        "--engine",
        "simulated",
        "--service-time",
        "60",
        "--max-num-seqs",
        "1",
        "--max-waiting",
        "0",
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            body = chat_body(blank_page(), stream=True)
            held = await client.send(client.build_request("POST", CHAT, json=body), stream=True)
            await held.aclose()
            await eventually_async(lambda: _aborted(server) == 1, what="the hang-up seen")
            await _wait_for_load(server, running=0, waiting=0)
            again = await client.send(client.build_request("POST", CHAT, json=body), stream=True)
            status = again.status_code
            await again.aclose()
    assert status == 200
