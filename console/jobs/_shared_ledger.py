"""Several runners on one job, a document at a time: the ledger on PostgreSQL.

A million-page backfill is one job; one console worker cannot read it fast enough. On
PostgreSQL every runner may join a running job and claims its documents a few at a time
(`SELECT ... FOR UPDATE SKIP LOCKED`, then the document's `holder` is set in the same
transaction), so two runners never hold one document and each page is sent once. A holder
that falls silent (or whose process is gone from this machine) loses its documents to the
next runner that looks; pages it had saved stay saved and are not sent again.

The job's status is decided once, by the runner that lets go of the last document: under the
job row's lock it checks that no live runner holds a document and none has pages left, then
counts the pages of every runner. A cancel is seen by every runner at its next heartbeat.

SQLite (one console on its data folder) keeps `JobLedger`: one runner per job.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from console._store import Store
from console.jobs._ledger import STALE_AFTER_S, JobLedger, _gone
from console.jobs._models import DocumentState, JobStatus
from console.jobs._rows import now_ts as _now
from console.jobs._tables import documents_table, jobs_table, pages_table

_ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def _has_pages_left() -> sa.ColumnElement[bool]:
    """A document still to read: not opened yet, or fewer kept results than pages."""
    d, p = documents_table, pages_table
    kept = (
        sa.select(sa.func.count())
        .where(p.c.document_id == d.c.id, sa.not_(p.c.retry))
        .scalar_subquery()
    )
    return sa.and_(
        d.c.state.in_([DocumentState.PENDING.value, DocumentState.OPENED.value]),
        sa.or_(d.c.state == DocumentState.PENDING.value, kept < d.c.page_count),
    )


def _free(gone: Sequence[str]) -> sa.ColumnElement[bool]:
    """Held by no live runner: no holder, a silent one, or one whose process is gone."""
    d = documents_table
    return sa.or_(
        d.c.holder.is_(None),
        sa.func.coalesce(d.c.held_at, 0.0) < _now() - STALE_AFTER_S,
        d.c.holder.in_(list(gone)),
    )


class SharedLedger(JobLedger):
    """JobLedger whose jobs are shared by every runner on the database (PostgreSQL)."""

    def __init__(self, store: Store, only: set[int] | None = None) -> None:
        super().__init__(store, only=only)
        # The documents this ledger's runner took and has not let go: document -> job.
        self._holding: dict[int, int] = {}

    def claimable(self, owner: str) -> list[tuple[int, str | None]]:
        """Queued or running jobs with a document no live runner holds. No previous owner is
        named: the pages in flight the job records are other live runners' (`_crashes.py`
        counts deaths only where one runner holds a whole job)."""
        j, d = jobs_table, documents_table
        waiting = sa.and_(j.c.status.in_(_ACTIVE), sa.not_(j.c.cancel_requested))
        if self.only is not None:
            waiting = sa.and_(waiting, j.c.id.in_(sorted(self.only)))
        has_free = (
            sa.select(d.c.id)
            .where(d.c.job_id == j.c.id, _has_pages_left(), _free(self._gone_holders()))
            .exists()
        )
        # A job with nothing left to read that no live runner holds is still claimed once:
        # its runner's release decides its outcome (a stop at the last page left it queued).
        settled = sa.not_(
            sa.select(d.c.id)
            .where(
                d.c.job_id == j.c.id,
                sa.or_(_has_pages_left(), sa.not_(_free(self._gone_holders()))),
            )
            .exists()
        )
        rows = self.store.read(
            sa.select(j.c.id)
            .where(waiting, sa.or_(has_free, settled))
            .order_by(j.c.created_at, j.c.id)
        )
        return [(row.id, None) for row in rows]

    def claim(self, job_id: int, owner: str, previous_owner: str | None) -> bool:
        """Join the job: running from now on (its first runner starts its clock)."""
        j = jobs_table
        now = _now()
        with self.store.transaction() as connection:
            return bool(
                connection.execute(
                    j.update()
                    .where(j.c.id == job_id, j.c.status.in_(_ACTIVE), sa.not_(j.c.cancel_requested))
                    .values(
                        owner=owner,
                        status=JobStatus.RUNNING.value,
                        run_started_at=sa.func.coalesce(j.c.run_started_at, now),
                        heartbeat_at=now,
                        finished_at=None,
                    )
                ).rowcount
            )

    def take_documents(self, job_id: int, owner: str, limit: int) -> list[int]:
        """Hold up to `limit` documents of the job that have pages left and no live holder.
        Rows another runner is claiming right now are skipped, not waited for."""
        d = documents_table
        gone = self._gone_holders(job_id)
        with self.store.transaction() as connection:
            ids = list(
                connection.execute(
                    sa.select(d.c.id)
                    .where(d.c.job_id == job_id, _has_pages_left(), _free(gone))
                    .order_by(d.c.position, d.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=d)
                ).scalars()
            )
            if ids:
                connection.execute(
                    d.update().where(d.c.id.in_(ids)).values(holder=owner, held_at=_now())
                )
        self._holding.update(dict.fromkeys(ids, job_id))
        return ids

    def let_go(self, document_ids: Sequence[int], owner: str) -> None:
        """These documents' pages are sent (or this runner stops): others may take them."""
        d = documents_table
        with self.store.transaction() as connection:
            connection.execute(
                d.update()
                .where(d.c.id.in_(list(document_ids)), d.c.holder == owner)
                .values(holder=None, held_at=None)
            )
        for document_id in document_ids:
            self._holding.pop(document_id, None)

    def heartbeat(self, owner: str, running: Sequence[int] = ()) -> list[int]:
        """Say this runner is alive, for its jobs and documents; returns the jobs it runs
        that must stop: cancel requested, or already ended by another runner."""
        j, d = jobs_table, documents_table
        now = _now()
        with self.store.transaction() as connection:
            connection.execute(d.update().where(d.c.holder == owner).values(held_at=now))
            if running:
                connection.execute(
                    j.update()
                    .where(j.c.id.in_(list(running)), j.c.status == JobStatus.RUNNING.value)
                    .values(heartbeat_at=now)
                )
        if not running:
            return []
        rows = self.store.read(
            sa.select(j.c.id).where(
                j.c.id.in_(list(running)),
                sa.or_(j.c.cancel_requested, j.c.status.not_in(_ACTIVE)),
            )
        )
        return [row.id for row in rows]

    def held(self, owner: str) -> set[int]:
        """Jobs this runner may go on with: those still queued or running, but for a job one
        of whose documents another runner took (this one was silent too long): its pages
        would go twice, so that run stops, and the runner may join the job again later."""
        j, d = jobs_table, documents_table
        running = self.store.read(sa.select(j.c.id).where(j.c.status.in_(_ACTIVE)))
        active = {row.id for row in running}
        holding = dict(self._holding)  # the runner's loop may take more meanwhile
        if not holding:
            return active
        rows = self.store.read(sa.select(d.c.id, d.c.holder).where(d.c.id.in_(list(holding))))
        # Held by another: taken from this runner. No holder: let go meanwhile (not lost).
        lost = {holding[row.id] for row in rows if row.holder not in (None, owner)}
        return active - lost

    def release(self, job_id: int, owner: str, status: JobStatus, error: str | None = None) -> None:
        """This runner leaves the job. Cancelled or failed: the job ends so for every runner.
        Stopping: queued again when no other runner works on it. Finished its share: the job
        ends only when this runner is the last (its status counts every runner's pages)."""
        j, d = jobs_table, documents_table
        now = _now()
        self._holding = {k: v for k, v in self._holding.items() if v != job_id}
        with self.store.transaction() as connection:
            connection.execute(
                d.update()
                .where(d.c.job_id == job_id, d.c.holder == owner)
                .values(holder=None, held_at=None)
            )
            this_job = sa.select(j.c.status, j.c.cancel_requested).where(j.c.id == job_id)
            row = connection.execute(this_job.with_for_update()).first()
            if row is None or row.status not in _ACTIVE:
                return  # another runner ended it
            others = connection.execute(
                sa.select(sa.func.count()).where(
                    d.c.job_id == job_id,
                    d.c.holder.is_not(None),
                    d.c.held_at >= now - STALE_AFTER_S,
                )
            ).scalar_one()
            left = connection.execute(
                sa.select(sa.func.count()).where(d.c.job_id == job_id, _has_pages_left())
            ).scalar_one()
            if row.cancel_requested or status == JobStatus.CANCELLED:
                final: JobStatus | None = JobStatus.CANCELLED
            elif error is not None:
                final = JobStatus.FAILED
            elif status == JobStatus.QUEUED and (others or left):  # this runner stops
                final = None if others else JobStatus.QUEUED
            elif others or left:
                final = None  # others still read, or a silent one's documents wait
            else:
                final = self._outcome(connection, job_id)
            if final is None:
                return
            ended = final in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
            connection.execute(
                j.update()
                .where(j.c.id == job_id)
                .values(
                    status=final.value,
                    owner=None,
                    heartbeat_at=None,
                    run_started_at=None,
                    run_seconds=j.c.run_seconds + (now - sa.func.coalesce(j.c.run_started_at, now)),
                    finished_at=now if ended else None,
                    cancel_requested=False,
                    error=error,
                )
            )

    def release_all(self, owner: str) -> int:
        """Let go of every document this runner holds (it is going away); its jobs go on
        under the other runners, or wait queued for the next."""
        j, d = jobs_table, documents_table
        self._holding = {}
        with self.store.transaction() as connection:
            connection.execute(
                d.update().where(d.c.holder == owner).values(holder=None, held_at=None)
            )
            live = (
                sa.select(d.c.id)
                .where(
                    d.c.job_id == j.c.id,
                    d.c.holder.is_not(None),
                    d.c.held_at >= _now() - STALE_AFTER_S,
                )
                .exists()
            )
            return connection.execute(
                j.update()
                .where(j.c.owner == owner, j.c.status == JobStatus.RUNNING.value)
                .values(
                    owner=None,
                    status=sa.case((live, j.c.status), else_=JobStatus.QUEUED.value),
                )
            ).rowcount

    @staticmethod
    def _outcome(connection: sa.Connection, job_id: int) -> JobStatus:
        """Failed when no page of the job was read (as `JobStore.outcome`), else done."""
        p = pages_table
        read = connection.execute(
            sa.select(sa.func.count()).where(p.c.job_id == job_id, p.c.error.is_(None))
        ).scalar_one()
        return JobStatus.DONE if read else JobStatus.FAILED

    def _gone_holders(self, job_id: int | None = None) -> list[str]:
        """Holders whose process has ended on this machine: their documents are free now."""
        d = documents_table
        query = sa.select(d.c.holder).distinct().where(d.c.holder.is_not(None))
        if job_id is not None:
            query = query.where(d.c.job_id == job_id)
        return [row.holder for row in self.store.read(query) if _gone(row.holder)]


def ledger_for(store: Store, only: set[int] | None = None) -> JobLedger:
    """The shared ledger on PostgreSQL (row locks let runners split a job), else one runner
    per job."""
    if store.engine.dialect.name == "postgresql":
        return SharedLedger(store, only=only)
    return JobLedger(store, only=only)
