"""Keep warm for N hours: the floor goes up now and back later, from the store, across restarts.

Against the real local platform (the simulated engine on a free port) and the cloudrun
platform on the fake Run server; a short duration stands in for hours."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from console._identity import Identity, PermissionDenied, Role
from console._store import Store
from console.platforms._base import ServiceState
from console.platforms.local import LocalPlatform
from console.runtime import Runtime
from console.service import Operations
from console.service._keep_warm import KeepWarm, KeepWarmTimer, countdown
from console.worker import Worker
from tests.console.local_platform import local_platforms
from tests.fakes.cloud import cloudrun_platform_with_fakes
from tests.waits import wait_until

ONE_SECOND_H = 1 / 3600


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    with local_platforms(tmp_path) as make:
        yield make


class Clock:
    """The keep-warm clock, moved by the test instead of waiting for real time."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _ops(
    platform: LocalPlatform, store: Store | None = None, now: Clock | None = None
) -> Operations:
    return Operations(platform, store or platform.store, actor="qa-tester", now=now)


def _actions(operations: Operations) -> list[tuple[str, str, bool]]:
    return [(r.action, r.actor, r.ok) for r in reversed(operations.audit_log())]


def test_keep_warm_raises_the_floor_and_stores_the_revert(make_platform) -> None:
    operations = _ops(make_platform())
    result = operations.start_keep_warm(2)
    assert result.ok, result.message
    assert operations.platform.floor == 1
    schedule = operations.keep_warm.schedule()
    assert schedule is not None
    assert (schedule.floor, schedule.revert_to, schedule.requested_by) == (1, 0, "qa-tester")
    left = schedule.until - datetime.now(UTC)
    assert timedelta(hours=1, minutes=59) < left <= timedelta(hours=2)
    assert _actions(operations) == [("keep warm", "qa-tester", True)]


def test_a_new_worker_applies_the_overdue_revert_with_no_page_open(
    make_platform, tmp_path, clock
) -> None:
    first = make_platform()
    _ops(first, now=clock).start_keep_warm(ONE_SECOND_H)
    assert wait_until(lambda: first.status().state is ServiceState.READY)
    first.close()  # the console goes away before the revert is due
    clock.advance(2)
    # A restarted console: new platform and store objects on the same data folder. The
    # platform brings the server back (the stored floor is still 1) ...
    second = make_platform(store=Store.in_dir(tmp_path))
    assert second.floor == 1
    operations = _ops(second, now=clock)
    worker = Worker(
        Runtime(operations), keep_warm_s=60
    ).start()  # ... and its worker applies the revert
    try:
        ended = ("keep warm ended", "system (for qa-tester)", True)
        assert wait_until(lambda: _actions(operations)[-1] == ended, timeout_s=10)
        assert second.floor == 0
        assert operations.status().state is ServiceState.DOWN
        assert operations.keep_warm.schedule() is None
    finally:
        worker.stop()


def test_a_revert_falling_due_while_no_page_is_open_is_applied_by_the_worker(
    make_platform, clock
) -> None:
    operations = _ops(make_platform(), now=clock)
    worker = Worker(Runtime(operations), keep_warm_s=0.1).start()
    try:
        assert operations.start_keep_warm(ONE_SECOND_H).ok
        assert operations.platform.floor == 1
        clock.advance(2)  # the deadline passes with no page open: only the worker is there
        assert wait_until(lambda: operations.platform.floor == 0, timeout_s=10)
    finally:
        worker.stop()
    assert _actions(operations)[-1] == ("keep warm ended", "system (for qa-tester)", True)


def test_the_timer_applies_the_revert_while_the_console_runs(make_platform) -> None:
    operations = _ops(make_platform())
    operations.start_keep_warm(ONE_SECOND_H)
    timer = KeepWarmTimer(operations.apply_due_keep_warm, interval_s=0.1).start()
    try:
        assert wait_until(lambda: operations.platform.floor == 0, timeout_s=10)
    finally:
        timer.stop()
    assert [a for a, _, _ in _actions(operations)] == ["keep warm", "keep warm ended"]


def test_cancel_keeps_the_floor_and_drops_the_revert(make_platform, clock) -> None:
    operations = _ops(make_platform(), now=clock)
    operations.start_keep_warm(ONE_SECOND_H)
    cancelled = operations.cancel_keep_warm()
    assert cancelled.ok, cancelled.message
    clock.advance(2)
    assert operations.apply_due_keep_warm() is None
    assert operations.platform.floor == 1
    assert _actions(operations) == [
        ("keep warm", "qa-tester", True),
        ("keep warm cancelled", "qa-tester", True),
    ]


def test_cancel_with_nothing_scheduled_fails_and_is_audited(make_platform) -> None:
    operations = _ops(make_platform())
    assert not operations.cancel_keep_warm().ok
    assert _actions(operations) == [("keep warm cancelled", "qa-tester", False)]


def test_two_consoles_on_one_store_revert_once(make_platform, tmp_path, clock) -> None:
    platform = make_platform()
    first = _ops(platform, now=clock)
    second = _ops(platform, Store.in_dir(tmp_path), now=clock)
    first.start_keep_warm(ONE_SECOND_H)
    clock.advance(2)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda o=o: results.append(o.apply_due_keep_warm()))
        for o in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
    assert [a for a, _, _ in _actions(first)].count("keep warm ended") == 1
    assert platform.floor == 0


def test_a_floor_changed_meanwhile_is_not_undone(make_platform, clock) -> None:
    platform = make_platform(server_args=("--engine", "simulated"))
    operations = _ops(platform, now=clock)
    operations.start_keep_warm(ONE_SECOND_H)
    platform.scale(min_instances=0)  # somebody else dropped it (the CLI, another console)
    clock.advance(2)
    result = operations.apply_due_keep_warm()
    assert result is not None and result.ok
    assert "Skipped" in result.message
    assert platform.floor == 0


def test_keep_warm_extends_a_running_one_and_keeps_the_floor_to_return_to(make_platform) -> None:
    operations = _ops(make_platform())
    operations.start_keep_warm(1)
    extended = operations.start_keep_warm(3)
    assert extended.ok and extended.message.startswith("Extended")
    schedule = operations.keep_warm.schedule()
    assert schedule is not None and schedule.revert_to == 0
    assert schedule.until - datetime.now(UTC) > timedelta(hours=2, minutes=59)


def test_keep_warm_is_refused_over_a_floor_set_on_purpose(make_platform) -> None:
    operations = _ops(make_platform(default_floor=1))
    result = operations.start_keep_warm(2)
    assert not result.ok
    assert "already 1" in result.message
    assert operations.keep_warm.schedule() is None


def test_a_viewer_is_refused_server_side(make_platform) -> None:
    operations = _ops(make_platform())
    viewer = Identity("qa@bank.example", Role.VIEWER, "iap")
    with pytest.raises(PermissionDenied):
        operations.start_keep_warm(1, identity=viewer)
    with pytest.raises(PermissionDenied):
        operations.cancel_keep_warm(identity=viewer)
    assert operations.keep_warm.schedule() is None


def test_a_floor_left_up_for_more_than_a_day_is_warned_about(make_platform) -> None:
    platform = make_platform()
    clock = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    keep_warm = KeepWarm(platform, platform.store, lambda *a, **k: None, now=lambda: clock[0])
    assert keep_warm.notices(1) == (None, None)  # first seen now
    clock[0] += timedelta(hours=23)
    assert keep_warm.notices(1)[1] is None
    clock[0] += timedelta(hours=2)
    warning = keep_warm.notices(1)[1]
    assert warning is not None and "1.0 days" in warning and "2026-03-02 09:00" in warning
    keep_warm.notices(0)  # dropped to zero: the clock starts again next time
    assert keep_warm.floor_raised_at() is None


def test_the_countdown_reads_in_hours_minutes_or_seconds() -> None:
    assert countdown(timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert countdown(timedelta(minutes=4, seconds=10)) == "4 min 10 s"
    assert countdown(timedelta(seconds=-3)) == "0 s"


def test_a_revert_cloud_run_refuses_is_retried_and_audited(tmp_path: Path, clock) -> None:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops", now=clock)
        assert operations.start_keep_warm(ONE_SECOND_H).ok
        assert cloud.platform.status().min_instances == 1
        clock.advance(2)
        cloud.run.fail("UpdateService", grpc.StatusCode.PERMISSION_DENIED)
        failed = operations.apply_due_keep_warm()
        assert failed is not None and not failed.ok and "attempt 1 of 5" in failed.message
        retry = operations.keep_warm.schedule()
        assert retry is not None and retry.attempts == 1
        assert cloud.platform.status().min_instances == 1
        ended = [r for r in operations.audit_log() if r.action == "keep warm ended"]
        assert [(r.actor, r.ok) for r in ended] == [("system (for ops)", False)]


def test_a_revert_due_on_cloud_run_with_no_page_open_is_applied_by_the_worker(
    tmp_path: Path, clock
) -> None:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops", now=clock)
        assert operations.start_keep_warm(ONE_SECOND_H).ok
        assert cloud.platform.status().min_instances == 1
        worker = Worker(Runtime(operations), keep_warm_s=0.1).start()
        try:
            clock.advance(2)
            assert wait_until(lambda: cloud.platform.status().min_instances == 0, timeout_s=10)
        finally:
            worker.stop()
        assert _actions(operations)[-1] == ("keep warm ended", "system (for ops)", True)
