"""Retention is one of the worker's duties, applied while it runs and not only at start
(issue 31, item 9): a console up for weeks must not keep jobs past their retention."""

from __future__ import annotations

from pathlib import Path

from console._store import Store
from console.jobs import JobStatus, JobStore, NewDocument
from console.jobs._tables import jobs_table
from console.runtime import Runtime
from console.service import Operations
from console.worker import Worker
from tests.fakes.cloud import cloudrun_platform_with_fakes
from tests.waits import wait_until

LONG_AGO = 86_400.0  # 1970-01-02: past any retention


def _finished_long_ago(store: Store) -> int:
    jobs = JobStore(store)
    job_id = jobs.create_job([NewDocument("old.png", b"x")], actor="qa", service_url="https://s")
    with store.transaction() as connection:
        connection.execute(
            jobs_table.update()
            .where(jobs_table.c.id == job_id)
            .values(status=JobStatus.DONE.value, created_at=LONG_AGO, finished_at=LONG_AGO)
        )
    return job_id


def test_a_job_that_passes_its_retention_while_the_worker_runs_is_deleted(
    tmp_path: Path,
) -> None:
    with cloudrun_platform_with_fakes(seed=False) as cloud:
        store = Store.in_dir(tmp_path)
        operations = Operations(cloud.platform, store, actor="ops")
        worker = Worker(Runtime(operations), beat_s=0.05, retention_s=0.1).start()
        try:
            jobs = JobStore(store)
            old = _finished_long_ago(store)  # after the worker's start
            kept = jobs.create_job([NewDocument("new.png", b"x")], actor="qa", service_url="x")

            assert wait_until(lambda: jobs.job(old) is None, timeout_s=30)
            assert jobs.job(kept) is not None
        finally:
            worker.stop()
            store.close()
