"""Retention (console/jobs/_retention.py): how long finished jobs are kept, and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from console._store import Store
from console.jobs import JobStatus, JobStore
from console.jobs._ledger import JobLedger
from tests.console.jobs.conftest import submit


def test_prune_drops_finished_jobs_past_the_retention_and_keeps_the_rest(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    old_done, old_queued = submit(jobs, ("a.pdf", b"x")), submit(jobs, ("b.pdf", b"y"))
    recent = submit(jobs, ("c.pdf", b"z"))
    assert ledger.claim(old_done, "me", None)
    ledger.release(old_done, "me", JobStatus.DONE)
    jobs.set_retention_days(7)
    later = datetime.now(UTC) + timedelta(days=8)
    with store.engine.begin() as connection:  # make `recent` recent as of `later`
        connection.execute(
            sa.text("UPDATE jobs SET created_at = :ts WHERE id = :id"),
            {"ts": later.timestamp(), "id": recent},
        )
    assert jobs.prune(later) == 1
    assert {job.id for job in jobs.jobs()} == {old_queued, recent}
    assert jobs.retention_days() == 7


def test_retention_defaults_to_thirty_days(jobs: JobStore) -> None:
    assert jobs.retention_days() == 30
    with pytest.raises(ValueError):
        jobs.set_retention_days(0)
