"""A loop's recurring failure is logged once when it starts and once when it ends: during a
database outage the keep-warm timer wrote an ERROR traceback every 2 s."""

from __future__ import annotations

import logging
import threading

import pytest

from console._recurring import RecurringProblem
from console._store import StoreError
from console.service._keep_warm import KeepWarmTimer
from tests.waits import wait_until

OUTAGE = StoreError("cannot read the console's store at db: connection refused")


def test_an_outage_is_said_once_without_a_traceback_and_its_end_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.recurring")
    problem = RecurringProblem(logger, "writing the beat")
    with caplog.at_level(logging.INFO, logger="test.recurring"):
        for _ in range(5):
            problem.failed(OUTAGE)
        problem.succeeded()
        problem.succeeded()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "writing the beat failed (said once until it works again)"),
        ("INFO", "writing the beat works again"),
    ]
    assert caplog.records[0].exc_info is None


def test_a_failure_that_is_not_the_store_keeps_its_traceback_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    problem = RecurringProblem(logging.getLogger("test.recurring"), "a duty")
    with caplog.at_level(logging.INFO, logger="test.recurring"):
        for _ in range(3):
            problem.failed(KeyError("floor"))
    [record] = caplog.records
    assert record.exc_info is not None


def test_the_keep_warm_timer_through_an_outage_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = threading.Semaphore(0)

    def apply_due() -> None:
        calls.release()
        raise OUTAGE

    timer = KeepWarmTimer(apply_due, interval_s=0.01)
    with caplog.at_level(logging.INFO, logger="console.keep_warm"):
        timer.start()
        seen = 0

        def ticked_often() -> bool:
            nonlocal seen
            while calls.acquire(blocking=False):
                seen += 1
            return seen >= 20

        assert wait_until(ticked_often, timeout_s=60)
        timer.stop()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
