"""Retries through cold starts and overload, and none where repeating cannot help.

Every test talks to the fault-injecting server on loopback; waits go to a recorder instead of
the clock, so the backoff schedule is asserted exactly and the tests take milliseconds.
"""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import pytest

from ocr_core import (
    BadRequest,
    ClientSettings,
    OCRClient,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
)
from ocr_core._protocol import parse_retry_after
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png
from tests.fakes.resetting_server import ResettingServer


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def client(server: FaultServer, sleep: RecordingSleep, **overrides: Any) -> OCRClient:
    return OCRClient(server.base_url, settings=ClientSettings(**overrides), sleep=sleep)


async def test_cold_start_503s_are_retried_with_exponential_backoff(server, sleep):
    server.script("503", "503")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.ok, page.error
    assert page.text == "page #0000ff"
    assert page.attempts == 3
    assert sleep.waits == [4.0, 8.0]  # backoff_min_s doubling
    assert len(server.chat_requests()) == 3


async def test_backoff_is_capped_at_backoff_max(server, sleep):
    server.script("502", "504", "503", "503")
    async with client(server, sleep, max_attempts=5, backoff_min_s=4, backoff_max_s=10) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok and page.attempts == 5
    assert sleep.waits == [4.0, 8.0, 10.0, 10.0]


async def test_retry_after_seconds_on_429_is_honoured(server, sleep):
    server.faults.retry_after = "7"
    server.script("429")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok and page.attempts == 2
    assert sleep.waits == [7.0]


async def test_retry_after_http_date_on_503_is_honoured(server, sleep):
    server.faults.retry_after = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script("503")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok
    assert len(sleep.waits) == 1 and 27.0 <= sleep.waits[0] <= 30.0


async def test_rate_limit_that_persists_is_reported_as_rate_limited(server, sleep):
    server.faults.retry_after = "1"
    server.script("429", "429", "429")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RateLimited)
    assert page.error.retry_after_s == 1.0
    assert page.attempts == 3


@pytest.mark.parametrize("status", ["400", "413"])
async def test_requests_the_server_rejects_are_not_retried(server, sleep, status):
    server.script(status)
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, BadRequest)
    assert page.error.status_code == int(status)
    assert page.attempts == 1
    assert sleep.waits == []
    assert len(server.chat_requests()) == 1


async def test_vllm_error_message_is_carried_into_the_typed_error(server, sleep):
    server.script("400")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert "scripted 400" in str(page.error)
    assert str(page.error).startswith("page 1: ")


async def test_slow_answers_end_as_request_timeout_after_max_attempts(server, sleep):
    server.faults.delay_s = 2.0  # the answer does not begin in time
    async with client(server, sleep, queue_timeout_s=0.2, max_attempts=2) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RequestTimeout)
    assert page.attempts == 2
    assert len(server.chat_requests()) == 2


async def test_connection_dropped_mid_answer_is_retried(server, sleep):
    server.script("reset")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok, page.error
    assert page.text == "page #ff0000"
    assert page.attempts == 2


async def test_connection_reset_by_peer_is_retried_then_service_unavailable(sleep):
    with ResettingServer() as resetting:
        async with OCRClient(resetting.base_url, settings=ClientSettings(), sleep=sleep) as ocr:
            page = await ocr.ocr_image(png())
    assert isinstance(page.error, ServiceUnavailable)
    assert page.attempts == 3
    assert resetting.refused.count("POST /v1/chat/completions HTTP/1.1") == 3
    assert sleep.waits == [4.0, 8.0]


async def test_streamed_answer_dropped_midway_is_retried(server, sleep):
    server.script("reset")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.ok, page.error
    assert page.text == "page #0000ff"
    assert page.attempts == 2


async def test_malformed_json_is_a_protocol_error_after_retries(server, sleep):
    server.script("malformed", "malformed", "malformed")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, ProtocolError)
    assert page.attempts == 3


async def test_connection_refused_is_service_unavailable(sleep):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ClientSettings(max_attempts=2)
    async with OCRClient(f"http://127.0.0.1:{port}", settings=settings, sleep=sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, ServiceUnavailable)
    assert page.attempts == 2


def test_retry_after_accepts_seconds_and_http_dates_and_ignores_garbage():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_cloud_runs_no_available_instance_500_is_retried(server, sleep):
    server.script("no_instance")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok and page.attempts == 2


async def test_a_500_page_from_googles_front_end_is_retried(server, sleep):
    # Issue 31, item 11: not vLLM's JSON, so not an engine fault on this page.
    server.script("front_end_500")
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok and page.attempts == 2


async def test_a_500_from_the_engine_itself_is_not_retried(server, sleep):
    server.script("500")  # vLLM's JSON error: this page broke the engine
    async with client(server, sleep) as ocr:
        page = await ocr.ocr_image(png())
    assert page.attempts == 1 and page.error is not None
