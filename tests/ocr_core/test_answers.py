"""What an answer may hold: no more text than `max_tokens` allows, and valid Unicode.

A model stops at `max_tokens`; a server that streams past it (or a hostile one) is refused
with `AnswerTooLarge` as soon as the text outgrows the bound, never buffered to the end.
Text that is not valid Unicode (a lone surrogate sent as a JSON escape) is repaired.
"""

from __future__ import annotations

from typing import Any

from ocr_core import (
    MAX_BYTES_PER_TOKEN,
    AnswerTooLarge,
    ClientSettings,
    OCRClient,
    ProtocolError,
    answer_text_limit,
)
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    settings = ClientSettings(**{"max_attempts": 3, **overrides})
    return OCRClient(server.base_url, settings=settings, sleep=RecordingSleep())


async def test_an_endless_stream_of_deltas_fails_as_too_large_without_being_buffered(server):
    server.script("endless_deltas")
    async with client(server) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AnswerTooLarge)
    assert isinstance(page.error, ProtocolError)  # a server not honouring the request
    assert page.text == ""
    limit = answer_text_limit(ocr.settings.max_tokens)
    assert f"more than the {limit:,} characters" in str(page.error)
    # The client hung up once the text outgrew the bound, not at the server's 1 GiB.
    assert server.sent_bytes < 4 * limit


async def test_an_answer_too_large_is_neither_retried_nor_asked_for_again(server):
    server.script("endless_deltas", "endless_deltas")
    async with client(server, rerun_runaway=True) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AnswerTooLarge)
    assert page.attempts == 1
    assert page.rerun_reason is None
    assert len(server.chat_requests()) == 1


async def test_the_bound_is_derived_from_the_max_tokens_asked_for(server):
    server.script("endless_deltas")
    async with client(server, max_tokens=8, max_attempts=1) as ocr:
        page = await ocr.ocr_image(png())
    assert answer_text_limit(8) == 8 * MAX_BYTES_PER_TOKEN
    assert isinstance(page.error, AnswerTooLarge)
    assert "more than the 2,048 characters that 8 tokens can hold" in str(page.error)
    # The client hangs up at the bound. What left the server before it noticed depends on
    # the machine's load and the kernel's socket buffers (348 KB was seen under load), but
    # it is megabytes at most, never the 1 GiB the server offers.
    assert server.sent_bytes < 64 << 20


async def test_an_answer_within_the_bound_is_kept(server):
    server.script("loop")
    async with client(server, rerun_runaway=False) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok and page.text.startswith("page #ff0000\nThank you")


async def test_a_lone_surrogate_in_a_streamed_delta_is_replaced(server):
    server.script("surrogate")
    async with client(server, rerun_runaway=False) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok, page.error
    assert page.text == "page #ff0000 \ufffd mended"
    assert page.text.encode("utf-8")  # valid Unicode: a store or a log can write it


async def test_a_lone_surrogate_in_a_plain_answer_is_replaced(server):
    server.script("surrogate_json")
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok, page.error
    assert page.text == "page #ff0000 \ufffd mended"
    assert page.rerun_reason is None and page.attempts == 1


async def test_a_lone_surrogate_is_repaired_before_the_runaway_check_reads_it(server, caplog):
    server.script("surrogate")
    async with client(server, rerun_runaway=True) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok, page.error
    assert "unexpected failure" not in caplog.text
    assert page.low_confidence == () or all(
        span.text.encode("utf-8") for span in page.low_confidence
    )
