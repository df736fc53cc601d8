"""A page the service has taken on is waited for; a service that is gone is found out.

Each phase of a request has its own deadline (ocr_core/_http.py): until the service takes
it (a cold start), until its answer begins (its turn in the queue), and between two pieces
of the answer. The fault server plays Cloud Run holding requests through a cold start and
vLLM answering a streamed request's headers before the request's turn comes.
"""

from __future__ import annotations

from typing import Any

from ocr_core import BadRequest, ClientSettings, OCRClient, RequestTimeout
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png, tiff_pages

# Deadlines far shorter than the waits below: only the right phase's deadline can let a
# page through, however slow the machine is.
SHORT_S = 0.3


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    settings = ClientSettings(**{"max_attempts": 1, **overrides})
    return OCRClient(server.base_url, settings=settings, sleep=RecordingSleep())


async def test_a_request_held_through_a_cold_start_succeeds_on_its_first_attempt(server):
    server.go_cold(2.0, held=True)  # Cloud Run holds the request while an instance starts
    async with client(server, queue_timeout_s=SHORT_S, timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok and page.text == "page #ff0000"
    assert page.attempts == 1
    assert len(server.chat_requests()) == 1


async def test_a_page_queued_at_the_service_longer_than_the_idle_deadline_is_kept(server):
    server.faults.delay_s = 2.0  # headers at once, the answer after its turn
    async with client(server, timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.ok and page.attempts == 1


async def test_a_service_that_never_takes_the_request_times_out_in_its_admission(server):
    server.go_cold(60.0, held=True)
    async with client(server, admission_timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RequestTimeout)
    assert "did not take the request within 0.3 s" in str(page.error)


async def test_an_answer_that_never_begins_times_out_in_the_queue(server):
    server.faults.delay_s = 60.0
    async with client(server, queue_timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RequestTimeout)
    assert "waiting for the answer to begin" in str(page.error)


async def test_an_answer_that_stalls_midway_times_out_on_its_silence(server):
    server.script("stall")
    async with client(server, timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RequestTimeout)
    assert "nothing came for 0.3 s while waiting for the rest of the answer" in str(page.error)


async def test_the_client_sends_no_more_at_once_than_the_server_says_it_runs(server):
    server.faults.max_num_seqs = 2
    server.faults.delay_s = 0.3  # long enough for pages to overlap if they were let through
    async with client(server, concurrency=8) as ocr:
        result = await ocr.ocr_document(tiff_pages(["white"] * 6))
    assert result.ok
    assert server.max_in_flight == 2


async def test_warm_up_waits_as_long_as_a_request_would_for_the_service_to_start(server):
    server.go_cold(60.0)  # 503 until then
    async with client(server, admission_timeout_s=SHORT_S) as ocr:
        report = await ocr.warm_up()
    assert not report.ready
    assert "not ready after 0.3 s" in str(report.error)


async def test_an_error_event_after_the_headers_keeps_the_type_of_its_status(server):
    server.script("stream_400")
    async with client(server, max_attempts=3) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, BadRequest)  # not retried, as a 400 before the headers
    assert page.attempts == 1


async def test_a_server_still_loading_is_waited_for_without_spending_an_attempt(server):
    server.faults.loading_requests = 3  # 503 "the engine is still loading", as ours answers
    async with client(server, max_attempts=1, breaker_failure_threshold=1) as ocr:
        page = await ocr.ocr_image(png("red"))
        assert ocr.breaker.snapshot().consecutive_failures == 0
    assert page.ok and page.text == "page #ff0000"
    assert page.attempts == 1
    assert len(server.chat_requests()) == 4


async def test_a_server_loading_past_the_startup_window_times_out_in_its_admission(server):
    server.faults.loading_requests = 1_000_000
    async with client(server, admission_timeout_s=SHORT_S) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, RequestTimeout)
    assert "did not take the request within 0.3 s (it was still loading)" in str(page.error)


async def test_a_503_that_does_not_say_loading_is_a_failed_attempt(server):
    server.script("503")
    async with client(server, max_attempts=2) as ocr:
        page = await ocr.ocr_image(png("red"))
    assert page.ok and page.attempts == 2
