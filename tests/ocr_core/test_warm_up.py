"""warm_up(): wait until the model answers and measure how long that took.

No test compares the measured time with a speed: it is checked against what the fault server
saw (its requests are stamped on the same monotonic clock, in this process) and against the
time the call took, so the checks hold on an idle machine and on a loaded one alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from ocr_core import (
    AuthError,
    BreakerState,
    ClientSettings,
    NotFound,
    OCRClient,
    ServiceUnavailable,
    WarmUpReport,
)
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import png


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    return OCRClient(server.base_url, settings=ClientSettings(**overrides))


async def timed(call: Awaitable[WarmUpReport]) -> tuple[WarmUpReport, float]:
    """The report and the seconds the call took on the test's clock (an upper bound)."""
    called = time.monotonic()
    report = await call
    return report, time.monotonic() - called


async def test_warm_service_is_ready_at_once(server):
    async with client(server) as ocr:
        report, took = await timed(ocr.warm_up(timeout=30))
    assert report == WarmUpReport(True, report.seconds, 1, None, server.base_url, was_ready=True)
    assert 0 <= report.seconds <= took  # one probe, no wait (attempts 1 above)


async def test_cold_start_time_is_measured(server):
    async with client(server) as ocr:
        server.go_cold(1.0)
        cold_until = server.faults.cold_until
        report, took = await timed(ocr.warm_up(timeout=60))
    assert report.ready
    assert report.error is None
    assert not report.was_ready
    probes = [r for r in server.requests if r.path == "/health"]
    assert report.attempts == len(probes) >= 2  # refused while cold, then ready
    assert probes[0].at < cold_until <= probes[-1].at
    # The time measured spans the first probe to the answer that said ready, inside the call.
    ready = server.requests[-1]
    assert ready.path == "/v1/models"
    assert ready.at - probes[0].at <= report.seconds <= took


async def test_ready_means_the_model_is_listed_not_just_health(server):
    server.go_cold(0.3)
    async with client(server) as ocr:
        await ocr.warm_up(timeout=5)
    paths = [r.path for r in server.requests]
    assert paths[-2:] == ["/health", "/v1/models"]


async def test_missed_deadline_reports_not_ready_with_the_last_error(server):
    server.go_cold(60)
    async with client(server) as ocr:
        report, took = await timed(ocr.warm_up(timeout=0.6))
    assert not report.ready
    assert 0.6 <= report.seconds <= took  # it gave up only once the deadline had passed
    assert isinstance(report.error, ServiceUnavailable)
    assert report.error.status_code == 503
    assert "not ready after 0.6 s" in str(report.error)
    assert not report.was_ready


async def test_a_different_model_is_not_ready(server):
    async with client(server, model="someone/else") as ocr:
        report = await ocr.warm_up(timeout=0.3)
    assert not report.ready
    assert isinstance(report.error, NotFound)
    assert "'someone/else' not served" in str(report.error)


async def test_polling_a_cold_service_does_not_trip_the_breaker(server):
    server.go_cold(60)
    async with client(server) as ocr:
        await ocr.warm_up(timeout=0.6)
        assert ocr.breaker.snapshot().state is BreakerState.CLOSED


async def test_a_ready_service_closes_an_open_breaker(server):
    server.go_cold(60)
    async with client(server, max_attempts=1) as ocr:
        for _ in range(3):
            await ocr.ocr_image(png())
        assert ocr.breaker.snapshot().state is BreakerState.OPEN
        server.go_cold(0)
        report = await ocr.warm_up(timeout=5)
        assert report.ready
        assert ocr.breaker.snapshot().state is BreakerState.CLOSED


async def test_rejected_credentials_end_the_warm_up_at_once(server):
    server.faults.accept_tokens = {"the-right-token"}
    async with client(server, token="a-wrong-token") as ocr:
        report, took = await timed(ocr.warm_up(timeout=30))
    assert not report.ready
    assert report.attempts == 1  # no poll after the refusal: the 30 s were not waited out
    assert report.seconds <= took
    assert isinstance(report.error, AuthError)
    assert report.error.status_code == 401
    assert "a-wrong-token" not in str(report.error)
