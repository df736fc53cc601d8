"""warm_up(): wait until the model answers and measure how long that took."""

from __future__ import annotations

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
from tests.fakes.fault_server import FaultServer, png


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    return OCRClient(server.base_url, settings=ClientSettings(**overrides))


async def test_warm_service_is_ready_at_once(server):
    async with client(server) as ocr:
        report = await ocr.warm_up(timeout=5)
    assert report == WarmUpReport(True, report.seconds, 1, None, server.base_url, was_ready=True)
    assert report.seconds < 0.5


async def test_cold_start_time_is_measured(server):
    server.go_cold(1.0)
    async with client(server) as ocr:
        report = await ocr.warm_up(timeout=10)
    assert report.ready
    assert 0.9 <= report.seconds <= 1.6  # polls at 0, 0.25, 0.63, 1.19 s...
    assert report.attempts >= 3
    assert report.error is None
    assert not report.was_ready


async def test_ready_means_the_model_is_listed_not_just_health(server):
    server.go_cold(0.3)
    async with client(server) as ocr:
        await ocr.warm_up(timeout=5)
    paths = [r.path for r in server.requests]
    assert paths[-2:] == ["/health", "/v1/models"]


async def test_missed_deadline_reports_not_ready_with_the_last_error(server):
    server.go_cold(60)
    async with client(server) as ocr:
        report = await ocr.warm_up(timeout=0.6)
    assert not report.ready
    assert 0.5 <= report.seconds <= 1.5
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
        report = await ocr.warm_up(timeout=30)
    assert not report.ready
    assert report.seconds < 1
    assert isinstance(report.error, AuthError)
    assert report.error.status_code == 401
    assert "a-wrong-token" not in str(report.error)
