"""OCRClient against the fault-injecting vLLM-shaped server: requests, results, nothing lost."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any

import httpx
import pytest

from ocr_core import (
    BreakerState,
    CircuitOpenError,
    ClientSettings,
    InvalidDocument,
    OCRClient,
    ServiceError,
    StreamChunk,
    SyncOCRClient,
    Truncated,
    load_document,
)
from ocr_core._protocol import completion_room
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png, tiff_pages
from tests.waits import eventually_async


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    return OCRClient(server.base_url, settings=ClientSettings(**overrides), sleep=RecordingSleep())


async def test_request_is_the_model_cards_image_only_chat_message(server):
    async with client(server) as ocr:
        await ocr.extract_text(png())
    body = server.chat_requests()[0].body
    assert body is not None
    assert body["model"] == "lightonai/LightOnOCR-2-1B"
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (4096, 0.2, 0.9)
    # Always streamed: the headers say the service took the page, so a queued page is kept.
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    [message] = body["messages"]
    assert message["role"] == "user"
    [content] = message["content"]
    assert content["type"] == "image_url"
    assert content["image_url"]["url"].startswith("data:image/")


async def test_max_tokens_is_clamped_to_the_servers_max_model_len_fetched_once(server):
    server.faults.max_model_len = 2048
    server.faults.prompt_tokens = 0
    async with client(server) as ocr:
        for _ in range(3):
            await ocr.extract_text(png())
    assert [r.body["max_tokens"] for r in server.chat_requests()] == [2048] * 3
    assert [r.path for r in server.requests].count("/v1/models") == 1


async def test_max_tokens_that_leave_no_room_for_the_image_are_reduced_to_fit(server):
    # gpu_image serves max_model_len 4096: 4096 completion tokens + the image cannot fit.
    server.faults.max_model_len = 4096
    server.faults.prompt_tokens = 1500
    async with client(server) as ocr:
        first = await ocr.ocr_image(png())
        second = await ocr.ocr_image(png())
    assert first.ok and second.ok
    assert [r.body["max_tokens"] for r in server.chat_requests()] == [4096, 2596, 2596]
    assert first.attempts == 2 and second.attempts == 1


async def test_models_lists_what_the_server_serves(server):
    async with client(server) as ocr:
        models = await ocr.models()
    assert [m["id"] for m in models] == ["lightonai/LightOnOCR-2-1B"]


async def test_page_result_carries_tokens_latency_and_finish_reason(server):
    async with client(server) as ocr:
        called = time.monotonic()
        page = await ocr.ocr_image(png("red"))
        took = time.monotonic() - called
    assert page.ok
    assert page.text == "page #ff0000"
    assert (page.prompt_tokens, page.completion_tokens) == (100, 2)
    assert page.finish_reason == "stop" and not page.truncated
    assert page.attempts == 1
    assert 0 < page.latency_s <= took  # measured inside the call, not a speed
    assert page.source == "ocr"


async def test_length_finish_is_flagged_as_truncated(server):
    server.faults.finish_reason = "length"
    async with client(server) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok
    assert page.truncated
    assert page.text == "page #ffffff"


async def test_strict_mode_makes_truncation_that_pages_error(server):
    server.faults.finish_reason = "length"
    async with client(server, strict=True) as ocr:
        result = await ocr.ocr_document(tiff_pages(["white", "blue"]))
        with pytest.raises(Truncated):
            await ocr.extract_text(png())
    assert [type(page.error) for page in result.pages] == [Truncated, Truncated]
    assert result.pages[1].error.page_index == 1
    assert result.truncated_count == 2


async def test_a_failing_page_keeps_the_others_in_page_order(server):
    server.faults.fail_colour = "#ff0000"
    colours = ["white", "blue", "red", "lime", "white"]
    async with client(server) as ocr:
        result = await ocr.ocr_document(tiff_pages(colours), filename="scan.tiff")
    assert [page.index for page in result.pages] == [0, 1, 2, 3, 4]
    assert [page.text for page in result.pages] == [
        "page #ffffff",
        "page #0000ff",
        "",
        "page #00ff00",
        "page #ffffff",
    ]
    failed = result.pages[2]
    assert isinstance(failed.error, ServiceError)
    assert failed.error.page_index == 2
    assert str(failed.error).startswith("page 3: ")
    assert (result.ok_count, result.failed_count, result.filename) == (4, 1, "scan.tiff")


async def test_iter_document_yields_every_page_once_as_it_completes(server):
    async with client(server) as ocr:
        indices = [page.index async for page in ocr.iter_document(tiff_pages(["white"] * 7))]
    assert sorted(indices) == list(range(7))


async def test_concurrency_limit_bounds_requests_in_flight(server):
    server.faults.delay_s = 0.3  # long enough to overlap even on a busy machine
    async with client(server, concurrency=3) as ocr:
        result = await ocr.ocr_document(tiff_pages(["white"] * 7))
    assert result.ok
    assert server.max_in_flight == 3


async def test_a_500_page_document_is_read_lazily_and_stopping_early_stops_it(server):
    server.faults.delay_s = 0.1
    async with client(server, concurrency=2) as ocr:
        pages = ocr.iter_document(tiff_pages(["white"] * 500))
        first = await anext(pages)
        await pages.aclose()
        # Wait until the cancelled page tasks have ended: then nothing is left in the loop
        # that could still send a page, and the count below is final.
        await eventually_async(
            lambda: asyncio.all_tasks() == {asyncio.current_task()}, what="the page tasks ending"
        )
    assert first.ok
    # Only the pages in the window (2 in flight + a few rendered ahead) were ever sent.
    assert len(server.chat_requests()) <= 5


async def test_streaming_chunks_concatenate_to_each_pages_text(server):
    chunks: list[StreamChunk] = []
    async with client(server) as ocr:
        result = await ocr.ocr_document(tiff_pages(["red", "blue"]), on_chunk=chunks.append)
    body = server.chat_requests()[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    for page in result.pages:
        streamed = "".join(c.delta for c in chunks if c.page_index == page.index)
        assert streamed == page.text != ""
        assert page.completion_tokens == 2


async def test_invalid_input_raises_its_typed_error(server):
    async with client(server) as ocr:
        with pytest.raises(InvalidDocument):
            await ocr.extract_text(b"")
        with pytest.raises(InvalidDocument):
            await ocr.ocr_document(b"%PDF-1.7 truncated")
    assert server.chat_requests() == []


def test_sync_client_is_shared_safely_between_threads(server):
    # Long enough that all six pages are rendered (in the sandbox) before a slot frees.
    server.faults.delay_s = 2.0
    results: dict[int, str] = {}
    with SyncOCRClient(server.base_url, settings=ClientSettings(concurrency=4)) as ocr:

        def work(n: int) -> None:
            results[n] = ocr.extract_text(png("blue"))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ocr.breaker.snapshot().state is BreakerState.CLOSED
    assert results == {n: "page #0000ff" for n in range(6)}
    assert server.max_in_flight == 4


def test_sync_iter_document_is_a_plain_iterator(server):
    with SyncOCRClient(server.base_url, settings=ClientSettings()) as ocr:
        pages = list(ocr.iter_document(tiff_pages(["white", "blue", "red"])))
        document = ocr.ocr_document(tiff_pages(["white", "blue", "red"]))
        report = ocr.warm_up(timeout=5)
    assert sorted(page.index for page in pages) == [0, 1, 2]
    assert [page.text for page in document.pages] == [
        "page #ffffff",
        "page #0000ff",
        "page #ff0000",
    ]
    assert report.ready


def test_repr_names_the_service_not_the_credentials(server):
    settings = ClientSettings(token="s3cret-token")
    with SyncOCRClient(server.base_url, settings=settings) as ocr:
        shown = repr(ocr)
    assert server.base_url in shown and "bearer" in shown
    assert "s3cret-token" not in shown


async def test_digital_pages_use_their_text_layer_without_calling_the_service(server, corpus):
    pdf = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    async with client(server, use_text_layer=True) as ocr:
        result = await ocr.ocr_document(pdf)
    assert [page.source for page in result.pages] == ["text_layer"] * 4
    assert result.pages[0].text.startswith("Hello, here is some text without a meaning.")
    assert all(page.has_text_layer for page in result.pages)
    assert server.chat_requests() == []


async def test_scanned_pages_are_read_by_the_service_even_with_use_text_layer(server, corpus):
    scan = (corpus / "scans" / "phototest.tif").read_bytes()
    async with client(server, use_text_layer=True) as ocr:
        page = await ocr.ocr_image(scan)
    assert page.source == "ocr" and page.ok
    assert len(server.chat_requests()) == 1


async def test_a_failing_chunk_callback_fails_only_its_page(server):
    def on_chunk(chunk: StreamChunk) -> None:
        if chunk.page_index == 1:
            raise ValueError("display went away")

    async with client(server) as ocr:
        result = await ocr.ocr_document(tiff_pages(["white"] * 3), on_chunk=on_chunk)
    assert [page.ok for page in result.pages] == [True, False, True]
    assert "ValueError: display went away" in str(result.pages[1].error)
    assert ocr.breaker.snapshot().state is BreakerState.CLOSED


@pytest.mark.parametrize(
    "message",
    [
        # vLLM >= 0.6
        "'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum "
        "context length is 4096 tokens and your request has 1234 input tokens "
        "(4096 > 4096 - 1234).",
        # older vLLM
        "This model's maximum context length is 4096 tokens. However, you requested 5330 "
        "tokens (1234 in the messages, 4096 in the completion). Please reduce the length.",
    ],
)
def test_context_overflow_in_either_vllm_wording_tells_the_room_left(message):
    assert completion_room(message) == 4096 - 1234


def test_other_bad_requests_say_nothing_about_room():
    assert completion_room("image could not be decoded") is None


# --- one page of an open document, and the ids that link it to the service's logs ----------------


async def test_ocr_page_reads_one_page_of_a_document_the_caller_holds_open(server):
    with load_document(tiff_pages(["red", "blue", "white"])) as document:
        async with client(server) as ocr:
            page = await ocr.ocr_page(document, 1)
    assert (page.index, page.text) == (1, "page #0000ff")
    assert len(server.chat_requests()) == 1


def test_the_sync_client_reads_one_page_of_an_open_document(server):
    with (
        load_document(tiff_pages(["red", "blue"])) as document,
        SyncOCRClient(server.base_url, settings=ClientSettings()) as ocr,
    ):
        page = ocr.ocr_page(document, 0)
    assert page.text == "page #ff0000"


async def test_a_page_outside_the_document_is_an_index_error(server):
    with load_document(png()) as document:
        async with client(server) as ocr:
            with pytest.raises(IndexError):
                await ocr.ocr_page(document, 1)


async def test_every_attempt_of_a_page_carries_the_same_request_id(server):
    server.script("503")
    async with client(server) as ocr:
        first = await ocr.ocr_image(png("red"))
        second = await ocr.ocr_image(png("blue"))
    sent = [r.headers.get("x-request-id") for r in server.chat_requests()]
    assert first.attempts == 2
    assert sent == [first.request_id, first.request_id, second.request_id]
    assert first.request_id is not None and re.fullmatch(r"[0-9a-f]{32}", first.request_id)
    assert first.request_id != second.request_id
    assert "x-cloud-trace-context" not in server.chat_requests()[0].headers  # not Cloud Run


async def test_a_page_never_sent_has_no_request_id(server):
    server.go_cold(60)
    async with client(server, max_attempts=1, breaker_failure_threshold=1) as ocr:
        await ocr.ocr_image(png())
        refused = await ocr.ocr_image(png())
    assert isinstance(refused.error, CircuitOpenError)
    assert refused.request_id is None


async def test_cloud_run_requests_carry_a_trace_context_made_of_the_request_id():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/models":
            return httpx.Response(503)
        if len(seen) == 2:
            return httpx.Response(503, json={"error": {"message": "starting"}})
        completion = {"choices": [{"message": {"content": "text"}, "finish_reason": "stop"}]}
        return httpx.Response(200, json=completion)

    settings = ClientSettings(base_url="https://ocr-abc123-uc.a.run.app", auth="none")
    transport = httpx.MockTransport(answer)
    async with OCRClient(settings=settings, transport=transport, sleep=RecordingSleep()) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok and page.attempts == 2
    chats = [r for r in seen if r.url.path == "/v1/chat/completions"]
    traces = [r.headers["x-cloud-trace-context"] for r in chats]
    assert traces == [f"{page.request_id}/1;o=1", f"{page.request_id}/2;o=1"]


async def test_each_request_of_a_page_is_told_with_why_the_one_before_failed(server):
    server.script("503", "504")
    heard: list[tuple[int, str | None]] = []
    async with client(server, max_attempts=3) as ocr:
        with load_document(png("#ff0000")) as document:
            page = await ocr.ocr_page(document, 0, on_attempt=lambda n, why: heard.append((n, why)))
    assert page.ok and page.attempts == 3
    assert [n for n, _ in heard] == [1, 2, 3]
    assert heard[0][1] is None
    assert heard[1][1] is not None and heard[1][1].startswith("ServiceUnavailable")
    assert heard[2][1] is not None and "504" in heard[2][1]
