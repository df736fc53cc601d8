"""Answers the client refuses to wait for or to buffer: every exchange is bounded."""

from __future__ import annotations

import asyncio

from ocr_core import BreakerState, ClientSettings, OCRClient, ProtocolError, RequestTimeout
from tests.fakes.inputs import RecordingSleep, png


async def test_a_server_trickling_bytes_cannot_hold_a_page_past_the_deadline(server):
    # Each byte comes well inside the idle deadline, so only the attempt's limit ends it.
    server.faults.trickle_interval_s = 0.2
    server.script("trickle")
    settings = ClientSettings(attempt_limit_s=1.0, max_attempts=1)
    async with OCRClient(server.base_url, settings=settings) as ocr:
        # The trickle never ends: only the client's 1 s deadline can end the page (the 60 s
        # here stops a broken client from holding the suite; it is not a measure of speed).
        page = await asyncio.wait_for(ocr.ocr_image(png()), 60)
    assert isinstance(page.error, RequestTimeout)
    assert "within 1 s" in str(page.error)
    assert server.sent_bytes >= 2  # it was trickling, not silent


async def test_the_attempt_cap_is_set_from_the_environment(server):
    server.faults.trickle_interval_s = 0.2
    server.script("trickle")  # each byte inside the idle deadline: only the cap ends it
    env = {"LIGHTONOCR_ATTEMPT_TIMEOUT_S": "1", "LIGHTONOCR_MAX_ATTEMPTS": "1"}
    settings = ClientSettings.from_env(env)
    async with OCRClient(server.base_url, settings=settings) as ocr:
        page = await asyncio.wait_for(ocr.ocr_image(png()), 60)  # a limit, not a speed
    assert isinstance(page.error, RequestTimeout)
    assert "no complete answer within 1 s" in str(page.error)


async def test_an_endless_stream_line_fails_typed_without_being_buffered(server):
    server.script("endless_line")
    settings = ClientSettings(max_attempts=1)
    async with OCRClient(server.base_url, settings=settings) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, ProtocolError)
    assert "stream line is longer than" in str(page.error)
    assert server.sent_bytes < 64 << 20  # the client hung up long before 400 MB


async def test_a_non_numeric_token_count_is_a_protocol_error_that_is_retried(server):
    server.script("bad_usage")
    settings = ClientSettings(max_attempts=2, breaker_failure_threshold=1)
    async with OCRClient(server.base_url, settings=settings, sleep=RecordingSleep()) as ocr:
        page = await ocr.ocr_image(png("red"))
        assert page.ok and page.text == "page #ff0000"
        assert page.attempts == 2
        server.script("bad_usage", "bad_usage")
        broken = await ocr.ocr_image(png())
        assert isinstance(broken.error, ProtocolError)
        assert "usage.prompt_tokens is not a token count ('lots')" in str(broken.error)
        assert ocr.breaker.snapshot().state is BreakerState.OPEN
