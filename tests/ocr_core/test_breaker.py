"""The circuit breaker: a dead service costs one failure per cool-down, not one per page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ocr_core import (
    BadRequest,
    BreakerState,
    CircuitOpenError,
    ClientSettings,
    NotFound,
    OCRClient,
    ServiceUnavailable,
)
from ocr_core._breaker import CircuitBreaker
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png, tiff_pages


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failure() -> ServiceUnavailable:
    return ServiceUnavailable("HTTP 503", status_code=503)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown_s=30.0, clock=clock)


def test_opens_after_three_consecutive_failures(breaker):
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure(failure())
    assert breaker.snapshot().state is BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure(failure())
    snapshot = breaker.snapshot()
    assert snapshot.state is BreakerState.OPEN
    assert snapshot.consecutive_failures == 3
    assert snapshot.retry_in_s == 30.0
    assert "HTTP 503" in (snapshot.last_error or "")


def test_open_breaker_fails_fast_saying_when_to_retry(breaker, clock):
    for _ in range(3):
        breaker.record_failure(failure())
    clock.now += 10
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_in_s == pytest.approx(20.0)


def test_a_success_between_failures_resets_the_count(breaker):
    breaker.record_failure(failure())
    breaker.record_failure(failure())
    breaker.record_success()
    breaker.record_failure(failure())
    assert breaker.snapshot().state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 1


def test_half_opens_after_cooldown_letting_exactly_one_probe_through(breaker, clock):
    for _ in range(3):
        breaker.record_failure(failure())
    clock.now += 30
    assert breaker.snapshot().state is BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # everyone else waits for the probe's verdict


def test_successful_probe_closes_the_circuit(breaker, clock):
    for _ in range(3):
        breaker.record_failure(failure())
    clock.now += 30
    breaker.before_call()
    breaker.record_success()
    assert breaker.snapshot().state is BreakerState.CLOSED
    breaker.before_call()


def test_failed_probe_reopens_for_another_cooldown(breaker, clock):
    for _ in range(3):
        breaker.record_failure(failure())
    clock.now += 30
    breaker.before_call()
    breaker.record_failure(failure())
    snapshot = breaker.snapshot()
    assert snapshot.state is BreakerState.OPEN
    assert snapshot.retry_in_s == 30.0


def test_bad_requests_do_not_count_as_service_failures(breaker):
    for _ in range(5):
        breaker.record_failure(BadRequest("HTTP 400: image too large", status_code=400))
    assert breaker.snapshot().state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 0


# --- through the client, against a real failing server ----------------------------------------


def client(
    server: FaultServer, breaker: CircuitBreaker | None = None, **overrides: Any
) -> OCRClient:
    settings = ClientSettings(**overrides)
    return OCRClient(server.base_url, settings=settings, sleep=RecordingSleep(), breaker=breaker)


async def test_client_fails_fast_once_the_breaker_opens(server):
    server.go_cold(60)
    async with client(server, max_attempts=2) as ocr:
        for _ in range(3):
            page = await ocr.ocr_image(png())
            assert isinstance(page.error, ServiceUnavailable)
        sent = len(server.chat_requests())
        page = await ocr.ocr_image(png())
        assert isinstance(page.error, CircuitOpenError)
        assert page.attempts == 0
        assert len(server.chat_requests()) == sent  # nothing sent
        assert ocr.breaker.snapshot().state is BreakerState.OPEN
    assert sent == 6  # 3 requests x 2 attempts, each counted once by the breaker


async def test_client_probe_after_cooldown_closes_the_breaker_when_service_is_back(server, clock):
    server.go_cold(60)
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=30.0, clock=clock)
    async with client(server, breaker, max_attempts=1) as ocr:
        for _ in range(3):
            await ocr.ocr_image(png())
        assert ocr.breaker.snapshot().state is BreakerState.OPEN
        server.go_cold(0)
        clock.now += 30  # the cool-down passes on the breaker's clock, not the test's
        page = await ocr.ocr_image(png("blue"))
        assert page.ok and page.text == "page #0000ff"
        assert ocr.breaker.snapshot().state is BreakerState.CLOSED


async def test_document_pages_after_the_breaker_opens_fail_fast_but_are_all_reported(server):
    server.go_cold(60)
    async with client(server, max_attempts=1, concurrency=1) as ocr:
        result = await ocr.ocr_document(tiff_pages(["white"] * 6))
    assert [page.index for page in result.pages] == list(range(6))
    # Pages rendered ahead take the one slot in the order their renders finish, so which three
    # pages were sent is not fixed; that three were, and the rest failed fast, is.
    errors = [type(page.error) for page in result.pages]
    assert sorted(errors, key=lambda kind: kind.__name__) == (
        [CircuitOpenError] * 3 + [ServiceUnavailable] * 3
    )
    assert len(server.chat_requests()) == 3


async def test_pages_the_service_rejects_do_not_open_the_breaker(server):
    server.faults.fail_colour = "#ff0000"
    server.faults.fail_colour_status = 400
    async with client(server, concurrency=1) as ocr:
        result = await ocr.ocr_document(tiff_pages(["red"] * 4 + ["white"]))
    assert [page.ok for page in result.pages] == [False] * 4 + [True]
    assert ocr.breaker.snapshot().state is BreakerState.CLOSED


async def test_clients_sharing_a_breaker_fail_fast_together(server):
    server.go_cold(60)
    shared = CircuitBreaker(failure_threshold=3, cooldown_s=60)
    async with (
        client(server, max_attempts=1, breaker=shared) as streaming,
        client(server, max_attempts=1, breaker=shared) as other,
    ):
        for _ in range(3):
            await streaming.ocr_image(png())
        sent = len(server.chat_requests())
        page = await other.ocr_image(png())
    assert isinstance(page.error, CircuitOpenError)
    assert len(server.chat_requests()) == sent
    assert other.breaker is streaming.breaker is shared


async def test_a_wrong_url_opens_the_breaker_instead_of_proving_the_service_up(server):
    server.script("404", "404", "404")
    async with client(server, max_attempts=1) as ocr:
        pages = [await ocr.ocr_image(png()) for _ in range(3)]
        assert all(isinstance(page.error, NotFound) for page in pages)
        assert all(page.attempts == 1 for page in pages)  # not retried
        assert ocr.breaker.snapshot().state is BreakerState.OPEN


class ManualClock:
    """The breaker's clock, moved by the test: cool-downs end exactly when it says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def open_breaker(ocr: OCRClient, clock: ManualClock) -> None:
    for _ in range(3):
        await ocr.ocr_image(png())
    assert ocr.breaker.snapshot().state is BreakerState.OPEN
    clock.now += 31  # the cool-down is over: the next call is the probe


async def test_a_batch_arriving_as_the_cool_down_ends_waits_for_the_probe_not_fails(server):
    # Issue 10 M4: 15 of 16 pages failed "circuit open" against a healthy server.
    clock = ManualClock()
    breaker = CircuitBreaker(3, 30.0, clock=clock)
    server.go_cold(60)
    async with client(server, breaker, max_attempts=1, concurrency=16) as ocr:
        await open_breaker(ocr, clock)
        server.go_cold(0)
        server.faults.delay_s = 0.5  # the probe is still out while the others arrive
        pages = await asyncio.gather(*(ocr.ocr_image(png("blue")) for _ in range(16)))
    assert [page.error for page in pages] == [None] * 16
    assert breaker.snapshot().state is BreakerState.CLOSED


async def test_callers_behind_a_failing_probe_fail_with_the_open_circuit(server):
    clock = ManualClock()
    breaker = CircuitBreaker(3, 30.0, clock=clock)
    server.go_cold(60)
    async with client(server, breaker, max_attempts=1, concurrency=8) as ocr:
        await open_breaker(ocr, clock)
        pages = await asyncio.gather(*(ocr.ocr_image(png("blue")) for _ in range(4)))
    errors = sorted(type(page.error).__name__ for page in pages)
    assert errors == ["CircuitOpenError"] * 3 + ["ServiceUnavailable"]
    assert len(server.chat_requests()) == 4  # three to open it, one probe
