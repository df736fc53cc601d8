"""A backfill's figures from its tasks' progress: its pace now beside its pace overall, and
its tasks by state (a task not heard from for a minute is not working)."""

from __future__ import annotations

from console.backfill._manifest import Manifest
from console.backfill._status import BackfillStatus
from console.backfill._task import TaskProgress

NOW = 10_000.0
MANIFEST = Manifest("b1", "/in", "/out", ("md", "json"), "2026-12-06T00:00:00+00:00", 50)


def _task(index: int, **fields: object) -> TaskProgress:
    return TaskProgress(index=index, count=3, attempt=0, documents=10, **fields)  # type: ignore[arg-type]


def test_the_pace_now_is_the_working_tasks_recent_writes() -> None:
    working = _task(
        0,
        pages=100,
        started_at=NOW - 1000,
        updated_at=NOW - 2,
        recent=[[NOW - 62, 40.0], [NOW - 2, 100.0]],
    )  # 60 pages in 60 s
    silent = _task(
        1,
        pages=50,
        started_at=NOW - 1000,
        updated_at=NOW - 300,
        recent=[[NOW - 360, 0.0], [NOW - 300, 50.0]],
    )  # fell silent
    status = BackfillStatus(MANIFEST, done=0, failed=[], tasks=[working, silent], now=NOW)

    assert status.pages_per_s_now == 1.0
    assert status.pages_per_s is not None and status.pages_per_s < 1.0  # 150 pages in 998 s


def test_tasks_are_counted_working_finished_and_stopped() -> None:
    tasks = [
        _task(0, updated_at=NOW - 1),
        _task(1, updated_at=NOW - 1, finished=True),
        _task(2, updated_at=NOW - 1, stopped="SIGTERM"),
        _task(3, updated_at=NOW - 600),
    ]
    status = BackfillStatus(MANIFEST, done=0, failed=[], tasks=tasks, now=NOW)

    assert (status.running, status.tasks_finished, status.tasks_stopped) == (1, 1, 2)
