"""Operations: the audit trail, warm-up history, restore memory and runbook thresholds,
over a real LocalPlatform (simulated engine on loopback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

from console._store import Store
from console.platforms._base import MetricKey, MetricSeries, ServiceState
from console.platforms._local_warm_up import probe_image
from console.platforms.local import LocalPlatform
from console.runtime import build_runtime
from console.service import THRESHOLDS, Operations
from ocr_core import BreakerState, CircuitOpenError, OCRError, SyncOCRClient
from tests.console.local_platform import (
    SIMULATED,
    free_port,
    local_platforms,
    port_open,
)

NOW = datetime.now(UTC)


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    with local_platforms(tmp_path) as make:
        yield make


@pytest.fixture
def operations(make_platform: Callable[..., LocalPlatform]) -> Operations:
    platform = make_platform()
    return Operations(platform, platform.store, actor="ana")


def test_warm_up_records_history_and_an_audit_entry(make_platform) -> None:
    platform = make_platform(server_args=(*SIMULATED, "--startup-delay", "1"))
    operations = Operations(platform, platform.store, actor="ana")
    report = operations.warm_up(timeout_s=60)
    assert report.ready, report.error
    assert report.seconds >= 1.0
    (record,) = operations.warm_up_history()
    assert (record.platform, record.ready, record.seconds) == ("local", True, report.seconds)
    (audit,) = operations.audit_log()
    assert (audit.actor, audit.action, audit.ok) == ("ana", "warm up", True)
    assert "cold start: ready in" in audit.detail and "health check" in audit.detail
    assert record.cold


def test_a_second_warm_up_is_recorded_as_already_warm_not_as_a_cold_start(
    operations: Operations,
) -> None:
    first = operations.warm_up(timeout_s=60)
    second = operations.warm_up(timeout_s=60)
    assert (first.cold, second.cold) == (True, False)
    assert second.ready
    assert [record.cold for record in operations.warm_up_history()] == [False, True]
    assert "already warm" in operations.audit_log()[0].detail
    (cold_starts,) = [s for s in operations.metrics(timedelta(hours=1)) if s.label == "warm-up"]
    assert cold_starts.points == [(first.at, first.seconds)]


def test_a_warm_up_interrupted_by_a_rerun_is_still_recorded(make_platform) -> None:
    platform = make_platform(server_args=(*SIMULATED, "--startup-delay", "1"))
    operations = Operations(platform, platform.store, actor="ana")

    def rerun(elapsed_s: float) -> None:  # what Streamlit raises from a page call on Refresh
        raise RerunException(RerunData())

    with pytest.raises(RerunException):
        operations.warm_up(timeout_s=60, on_progress=rerun)
    (record,) = operations.warm_up_history()
    assert (record.ready, record.cold) == (False, False)
    assert "interrupted" in (record.error or "")
    (audit,) = operations.audit_log()
    assert (audit.action, audit.ok) == ("warm up", False)
    assert "interrupted" in audit.detail


def test_a_warm_up_closes_the_breaker_that_an_outage_opened(operations: Operations) -> None:
    """Scaled to zero, pages fail and open the shared breaker; Warm up, then a retry works."""
    settings = operations.platform.client_settings().with_overrides(max_attempts=1)
    with SyncOCRClient(settings=settings, breaker=operations.breaker) as client:
        for _ in range(settings.breaker_failure_threshold):
            with pytest.raises(OCRError):
                client.extract_text(probe_image())
        assert operations.breaker.snapshot().state is BreakerState.OPEN
        with pytest.raises(CircuitOpenError):
            client.extract_text(probe_image())

        assert operations.warm_up(timeout_s=60).ready
        assert operations.breaker.snapshot().state is BreakerState.CLOSED
        assert client.extract_text(probe_image())


def test_a_failed_warm_up_is_recorded_as_failed_with_its_reason(make_platform) -> None:
    platform = make_platform(server_args=(*SIMULATED, "--startup-delay", "30"))
    operations = Operations(platform, platform.store, actor="ana")
    report = operations.warm_up(timeout_s=1.0)
    assert not report.ready
    (record,) = operations.warm_up_history()
    assert (record.ready, record.error) == (False, str(report.error))
    (audit,) = operations.audit_log()
    assert (audit.action, audit.ok) == ("warm up", False)
    assert "not ready after" in audit.detail
    # A failed warm-up is not a cold start: it stays off the startup chart.
    series = operations.metrics(timedelta(hours=1))
    assert not [s for s in series if s.label == "warm-up"]


def test_scale_to_zero_then_restore_brings_back_the_floor(operations: Operations) -> None:
    assert operations.scale(min_instances=1).ok
    assert operations.scale_to_zero().ok
    assert operations.status().min_instances == 0
    assert not port_open(operations.platform.port)  # type: ignore[attr-defined]

    restored = operations.restore()
    assert restored.ok, restored.message
    assert operations.status().min_instances == 1
    assert operations.status().state in (ServiceState.STARTING, ServiceState.READY)
    actions = [record.action for record in operations.audit_log()]
    assert actions == ["restore", "scale to zero", "scale"]


def test_restore_with_nothing_remembered_fails_and_is_audited(operations: Operations) -> None:
    result = operations.restore()
    assert not result.ok
    assert "Nothing to restore" in result.message
    (audit,) = operations.audit_log()
    assert (audit.action, audit.ok, audit.actor) == ("restore", False, "ana")


def test_a_refused_scale_is_audited_as_failed_with_the_reason(operations: Operations) -> None:
    result = operations.scale(min_instances=3)
    assert not result.ok
    (audit,) = operations.audit_log()
    assert (audit.action, audit.target, audit.ok) == ("scale", "floor 3", False)
    assert audit.detail == result.message


def test_metrics_include_the_cold_starts_measured_by_warm_ups(operations: Operations) -> None:
    assert operations.warm_up(timeout_s=60).cold
    series = operations.metrics(timedelta(hours=1))
    (cold_starts,) = [s for s in series if s.key is MetricKey.STARTUP_LATENCY_S]
    assert cold_starts.label == "warm-up"
    assert len(cold_starts.points) == 1 and cold_starts.points[0][1] > 0


def test_memory_over_ninety_percent_is_a_breach_with_a_plain_hint(operations: Operations) -> None:
    peak = NOW - timedelta(minutes=5)
    memory = MetricSeries(
        MetricKey.MEMORY_UTILIZATION,
        "rss",
        "ratio",
        [(NOW - timedelta(minutes=10), 0.5), (peak, 0.95), (NOW, 0.6)],
    )
    (breach,) = operations.breaches([memory])
    assert (breach.key, breach.label, breach.value) == (MetricKey.MEMORY_UTILIZATION, "rss", 0.95)
    assert breach.threshold == THRESHOLDS[MetricKey.MEMORY_UTILIZATION] == 0.90
    assert "95%" in breach.hint and "90%" in breach.hint
    assert peak.strftime("%H:%M") in breach.hint


def test_series_under_their_thresholds_or_without_one_are_not_breaches(
    operations: Operations,
) -> None:
    latency = MetricSeries(MetricKey.REQUEST_LATENCY_S, "p95", "s", [(NOW, 119.0)])
    requests = MetricSeries(MetricKey.REQUEST_COUNT, "requests", "requests", [(NOW, 1e6)])
    errors = MetricSeries(MetricKey.ERROR_RATE, "errors", "ratio", [])
    assert operations.breaches([latency, requests, errors]) == []


def test_the_actor_defaults_to_the_operating_system_user(make_platform) -> None:
    import getpass

    platform = make_platform()
    assert Operations(platform, platform.store).actor == getpass.getuser()


def test_build_runtime_runs_the_local_platform_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    operations = build_runtime(
        {
            "LIGHTONOCR_DATA_DIR": str(tmp_path),
            "LIGHTONOCR_LOCAL_PORT": str(port),
            "LIGHTONOCR_LOCAL_ENGINE": "simulated",
            "LIGHTONOCR_ACTOR": "bo",
        }
    ).operations
    try:
        assert operations.platform.name == "local"
        assert operations.platform.service_url == f"http://127.0.0.1:{port}"
        assert operations.actor == "bo"
        # No floor recorded yet: the console opens with a working service.
        assert operations.status().state in (ServiceState.STARTING, ServiceState.READY)
        assert isinstance(operations.store, Store)
        assert operations.store.path == tmp_path / "console.sqlite3"
    finally:
        operations.close()
    assert not port_open(port)
