"""The runner's side of the job tables: claim, heartbeat, write pages, let go.

Claiming is a compare-and-set on the job's owner, so two runners (two consoles on one data
folder) never work on one job; a runner that dies stops its heartbeat, and its jobs can be
claimed again (at once when its process is gone from this machine).

"This machine" is proven, not assumed from a host name: Cloud Run instances may all report
the same one, and judging another instance's runner from this one's process table would take
a live runner's job and send its pages twice. An owner names its process space (the kernel's
boot id and pid namespace, hashed); only an owner of the same space is judged by its pid, and
on Cloud Run (K_SERVICE, CLOUD_RUN_JOB) none is: there the heartbeat alone decides.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from console._store import Store
from console.jobs._models import DocumentState, JobStatus
from console.jobs._rows import now_ts as _now
from console.jobs._rows import page_row as _page_row
from console.jobs._rows import sampling_from_json
from console.jobs._tables import documents_table, jobs_table, pages_table, words_table
from ocr_core import PageResult, Sampling

# A runner writes a heartbeat every few seconds; this much silence means it is gone.
STALE_AFTER_S = 15.0


class JobLedger:
    """What one runner writes; `store` is the console's Store. With `only` (a set, possibly
    empty) the runner claims those jobs and the ones `allow`ed later, and no other: a
    command's runner (the canary's) never takes the team's queued jobs."""

    def __init__(self, store: Store, only: set[int] | None = None) -> None:
        self.store = store
        self.only = None if only is None else frozenset(only)

    def allow(self, job_id: int) -> None:
        """A runner limited by `only` may claim this job too (others: no change). A new
        frozenset each time: the runner's store threads read it while another thread adds."""
        if self.only is not None:
            self.only = self.only | {job_id}

    def claimable(self, owner: str) -> list[tuple[int, str | None]]:
        """(job, its owner now) for jobs waiting for a runner: queued, or running under a
        runner that went silent or whose process is gone."""
        j = jobs_table
        stale = _now() - STALE_AFTER_S
        waiting = j.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        if self.only is not None:
            waiting = sa.and_(waiting, j.c.id.in_(sorted(self.only)))
        rows = self.store.read(
            sa.select(j.c.id, j.c.owner, j.c.heartbeat_at)
            .where(waiting)
            .order_by(j.c.created_at, j.c.id)
        )
        return [
            (row.id, row.owner)
            for row in rows
            if row.owner != owner
            and (row.owner is None or (row.heartbeat_at or 0.0) < stale or _gone(row.owner))
        ]

    def claim(self, job_id: int, owner: str, previous_owner: str | None) -> bool:
        """Take the job if it is still as seen: a compare-and-set on the owner and, for a job
        taken from a silent runner, on that runner still being silent (it may have spoken
        since `claimable` looked). One UPDATE, so the database's row lock decides between
        two consoles claiming at once (PostgreSQL re-checks the WHERE after the wait)."""
        j = jobs_table
        now = _now()
        if previous_owner is None:
            conditions = [j.c.owner.is_(None)]
        else:
            conditions = [j.c.owner == previous_owner]
            if not _gone(previous_owner):
                conditions.append(sa.func.coalesce(j.c.heartbeat_at, 0.0) < now - STALE_AFTER_S)
        with self.store.transaction() as connection:
            return bool(
                connection.execute(
                    j.update()
                    .where(j.c.id == job_id, *conditions, j.c.status.in_(["queued", "running"]))
                    .values(
                        owner=owner,
                        status=JobStatus.RUNNING.value,
                        run_started_at=now,
                        heartbeat_at=now,
                        finished_at=None,
                    )
                ).rowcount
            )

    def heartbeat(self, owner: str, running: Sequence[int] = ()) -> list[int]:
        """Say this runner is alive; returns its jobs whose cancel was requested (`running`,
        the jobs it runs, matters only where runners share jobs)."""
        j = jobs_table
        with self.store.transaction() as connection:
            connection.execute(j.update().where(j.c.owner == owner).values(heartbeat_at=_now()))
        rows = self.store.read(sa.select(j.c.id).where(j.c.owner == owner, j.c.cancel_requested))
        return [row.id for row in rows]

    def held(self, owner: str) -> set[int]:
        """The jobs this runner owns now; one it runs but no longer owns was taken by another
        runner (this one was silent too long) and must stop, or its pages would go twice."""
        j = jobs_table
        return {row.id for row in self.store.read(sa.select(j.c.id).where(j.c.owner == owner))}

    def release(self, job_id: int, owner: str, status: JobStatus, error: str | None = None) -> None:
        """The run ended (finished, cancelled, or the runner stopping): add its time, let go."""
        j = jobs_table
        now = _now()
        finished = status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
        with self.store.transaction() as connection:
            connection.execute(
                j.update()
                .where(j.c.id == job_id, j.c.owner == owner)
                .values(
                    status=status.value,
                    owner=None,
                    heartbeat_at=None,
                    run_started_at=None,
                    run_seconds=j.c.run_seconds + (now - sa.func.coalesce(j.c.run_started_at, now)),
                    finished_at=now if finished else None,
                    cancel_requested=False,
                    error=error,
                )
            )

    def set_document(
        self, document_id: int, state: DocumentState, page_count: int = 0, error: str | None = None
    ) -> None:
        d = documents_table
        with self.store.transaction() as connection:
            connection.execute(
                d.update()
                .where(d.c.id == document_id)
                .values(state=state.value, page_count=page_count, error=error)
            )

    def pages_to_send(self, document_id: int, page_count: int) -> list[int]:
        """Pages without a result, and pages marked for retry."""
        p = pages_table
        rows = self.store.read(
            sa.select(p.c.page_index, p.c.retry).where(p.c.document_id == document_id)
        )
        kept = {index for index, retry in rows if not retry}
        return [i for i in range(page_count) if i not in kept]

    def sampling_to_send(self, document_id: int) -> dict[int, Sampling]:
        """The sampling a person chose for pages marked for retry, by page index."""
        p = pages_table
        rows = self.store.read(
            sa.select(p.c.page_index, p.c.retry_sampling).where(
                p.c.document_id == document_id, p.c.retry, p.c.retry_sampling.is_not(None)
            )
        )
        return {index: sampling for index, text in rows if (sampling := sampling_from_json(text))}

    def save_page(
        self,
        job_id: int,
        document_id: int,
        result: PageResult,
        *,
        request_id: str | None,
        revision: str | None,
        started_at: float,
        sampling: Sampling | None = None,
    ) -> bool:
        """Write a finished page once; a retry replaces a failed or retry-marked row.

        Returns False (and writes nothing) when the page already has a result that was not
        up for retry: a page is never stored twice.
        """
        p = pages_table
        row = _page_row(result, request_id, revision, started_at, sampling)
        this_page = (p.c.document_id == document_id, p.c.page_index == result.index)
        try:
            # Written update-first, so the transaction takes the write lock at once.
            with self.store.transaction() as connection:
                replaced = connection.execute(
                    p.update()
                    .where(*this_page, sa.or_(p.c.retry, p.c.error.is_not(None)))
                    # `attempts` counts every request made for the page, earlier runs' too.
                    .values(**{**row, "attempts": p.c.attempts + row["attempts"]})
                ).rowcount
                if replaced:  # words located on the old text are not this text's
                    w = words_table
                    connection.execute(
                        w.delete().where(
                            w.c.document_id == document_id, w.c.page_index == result.index
                        )
                    )
                if not replaced:
                    connection.execute(
                        p.insert().values(
                            document_id=document_id, page_index=result.index, job_id=job_id, **row
                        )
                    )
        except sa.exc.IntegrityError:
            return False  # the page already has its result
        return True

    def release_all(self, owner: str) -> int:
        """Put every job this runner still holds back in the queue (it is going away)."""
        j = jobs_table
        now = _now()
        with self.store.transaction() as connection:
            return connection.execute(
                j.update()
                .where(j.c.owner == owner)
                .values(
                    status=JobStatus.QUEUED.value,
                    owner=None,
                    heartbeat_at=None,
                    run_started_at=None,
                    run_seconds=j.c.run_seconds + (now - sa.func.coalesce(j.c.run_started_at, now)),
                )
            ).rowcount


@functools.cache
def process_space() -> str | None:
    """A name for the set of processes this one can see by pid, or None where pids prove
    nothing about other runners (Cloud Run; no /proc)."""
    if os.environ.get("K_SERVICE") or os.environ.get("CLOUD_RUN_JOB"):
        return None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]


def new_owner() -> str:
    """`host:pid:random@space`: unique per runner; the space only where pids can be judged."""
    owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    space = process_space()
    return f"{owner}@{space}" if space else owner


def _gone(owner: str) -> bool:
    """True when the owner is a runner of this process space whose process has ended."""
    who, _, space = owner.rpartition("@")
    if not who or space != process_space() or space is None:
        return False
    pid = who.split(":")[1] if who.count(":") >= 2 else ""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
