"""Jobs in the console's store as users see them: create, list, read back, cancel, retry.

Every method is one short transaction on the shared `Store`'s engine; the runner's side
(claim, heartbeat, write pages) is `JobLedger`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

import sqlalchemy as sa

from console._objects import ObjectTooLarge
from console._store import Store, from_ts, to_ts
from console.jobs._ledger import STALE_AFTER_S
from console.jobs._models import (
    DocumentState,
    Job,
    JobDocument,
    JobStatus,
    StoredPage,
)
from console.jobs._rows import now_ts, page_from_row, sampling_to_json
from console.jobs._tables import (
    documents_table,
    jobs_table,
    pages_table,
    references_table,
    words_table,
)
from console.jobs._words import WordsStore
from ocr_core import Sampling

RETENTION_SETTING = "job_retention_days"
DEFAULT_RETENTION_DAYS = 30


# A job's uploads together may not exceed this (LIGHTONOCR_MAX_JOB_MB).
MAX_JOB_MB_ENV = "LIGHTONOCR_MAX_JOB_MB"
DEFAULT_MAX_JOB_MB = 1024


@dataclass(frozen=True, slots=True)
class NewDocument:
    """An upload: its bytes, or a binary file to stream them from (read once, not kept)."""

    filename: str
    data: bytes | IO[bytes]


class JobTooLarge(ValueError):
    """A job's uploads add up to more than LIGHTONOCR_MAX_JOB_MB: nothing of it is kept."""


def max_job_bytes(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return int(float(env.get(MAX_JOB_MB_ENV, DEFAULT_MAX_JOB_MB)) * (1 << 20))


class JobStore:
    """The job tables of one `Store` (same engine, same file or database)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.words = WordsStore(store)

    def __repr__(self) -> str:
        return f"JobStore({self.store.where!r})"

    # --- creating and reading --------------------------------------------------------------------

    def create_job(
        self,
        documents: Sequence[NewDocument],
        *,
        actor: str,
        service_url: str,
        revision: str | None = None,
        use_text_layer: bool = False,
        name: str | None = None,
        locate_words: bool = False,
        purpose: str | None = None,
    ) -> int:
        """A queued job whose uploads went to the object store (streamed, at most
        `max_job_bytes()` in all, or `JobTooLarge` and nothing kept), so any runner can
        (re)open them later; named `name`, else after its first document."""
        if not documents:
            raise ValueError("a job needs at least one document")
        if not name:
            name = documents[0].filename
            if len(documents) > 1:
                name += f" + {len(documents) - 1} more"
        stored = self._store_documents(documents)
        try:
            with self.store.transaction() as connection:
                job_id = connection.execute(
                    jobs_table.insert().values(
                        name=name,
                        actor=actor,
                        created_at=now_ts(),
                        status=JobStatus.QUEUED.value,
                        service_url=service_url,
                        revision=revision,
                        use_text_layer=use_text_layer,
                        locate_words=locate_words,
                        purpose=purpose,
                        run_seconds=0.0,
                        cancel_requested=False,
                    )
                ).inserted_primary_key[0]
                connection.execute(
                    documents_table.insert(),
                    [
                        {"job_id": job_id, "position": n, "filename": d.filename, "size": size,
                         "data": b"", "object_key": key, "state": DocumentState.PENDING.value,
                         "page_count": 0}
                        for n, (d, (key, size)) in enumerate(zip(documents, stored, strict=True))
                    ],
                )  # fmt: skip
        except BaseException:
            self._delete_objects([key for key, _size in stored])
            raise
        return int(job_id)

    def _store_documents(self, documents: Sequence[NewDocument]) -> list[tuple[str, int]]:
        """Each upload streamed to a new object: (key, size); none kept past the cap."""
        limit = max_job_bytes()
        stored: list[tuple[str, int]] = []
        try:
            for document in documents:
                source = (
                    io.BytesIO(document.data) if isinstance(document.data, bytes) else document.data
                )
                key = self.store.objects.new_key()
                room = limit - sum(size for _key, size in stored)
                try:
                    stored.append((key, self.store.objects.put(key, source, limit=room)))
                except ObjectTooLarge:
                    raise JobTooLarge(
                        f"the job's files add up to more than the {limit >> 20} MB a job may "
                        f"hold ({MAX_JOB_MB_ENV}); split them into smaller jobs"
                    ) from None
        except BaseException:
            self._delete_objects([key for key, _size in stored])
            raise
        return stored

    def _delete_objects(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.store.objects.delete(key)

    def jobs(self, limit: int = 200, job_ids: Iterable[int] | None = None) -> list[Job]:
        """Newest first, with their page counts."""
        j, d, p = jobs_table, documents_table, pages_table
        query = sa.select(j).order_by(j.c.created_at.desc(), j.c.id.desc()).limit(limit)
        if job_ids is not None:
            query = query.where(j.c.id.in_(list(job_ids)))
        rows = self.store.read(query)
        ids = [row.id for row in rows]
        if not ids:
            return []
        unread = (DocumentState.FAILED.value, DocumentState.NEEDS_PASSWORD.value)
        doc_counts = {
            job_id: (count, total, int(failed or 0))
            for job_id, count, total, failed in self.store.read(
                sa.select(
                    d.c.job_id,
                    sa.func.count(),
                    sa.func.sum(d.c.page_count),
                    sa.func.sum(sa.case((d.c.state.in_(unread), 1), else_=0)),
                )
                .where(d.c.job_id.in_(ids))
                .group_by(d.c.job_id)
            )
        }
        page_counts: dict[int, tuple[int, int, int]] = {}
        for job_id, done, failed, rerun in self.store.read(
            sa.select(
                p.c.job_id,
                sa.func.sum(sa.case((p.c.error.is_(None), 1), else_=0)),
                sa.func.sum(sa.case((p.c.error.is_not(None), 1), else_=0)),
                sa.func.sum(sa.case((p.c.rerun_reason.is_not(None), 1), else_=0)),
            )
            .where(p.c.job_id.in_(ids))
            .group_by(p.c.job_id)
        ):
            page_counts[job_id] = (int(done or 0), int(failed or 0), int(rerun or 0))
        located = self.words.counts(ids)
        now = now_ts()
        jobs = []
        for row in rows:
            count, total, documents_failed = doc_counts.get(row.id, (0, 0, 0))
            done, failed, rerun = page_counts.get(row.id, (0, 0, 0))
            elapsed = row.run_seconds
            if row.status == JobStatus.RUNNING and row.run_started_at is not None:
                elapsed += max(now - row.run_started_at, 0.0)
            jobs.append(
                Job(
                    id=row.id,
                    name=row.name,
                    actor=row.actor,
                    created_at=from_ts(row.created_at),
                    status=JobStatus(row.status),
                    service_url=row.service_url,
                    revision=row.revision,
                    use_text_layer=row.use_text_layer,
                    documents=count,
                    pages_total=int(total or 0),
                    pages_done=done,
                    pages_failed=failed,
                    elapsed_s=elapsed,
                    finished_at=from_ts(row.finished_at) if row.finished_at else None,
                    cancel_requested=row.cancel_requested,
                    error=row.error,
                    pages_rerun=rerun,
                    locate_words=row.locate_words,
                    purpose=row.purpose,
                    pages_located=located.get(row.id, (0, 0))[0],
                    pages_unlocated=located.get(row.id, (0, 0))[1],
                    documents_failed=documents_failed,
                )
            )
        return jobs

    def job(self, job_id: int) -> Job | None:
        found = self.jobs(limit=1, job_ids=[job_id])
        return found[0] if found else None

    def documents(self, job_id: int) -> list[JobDocument]:
        d = documents_table
        rows = self.store.read(
            sa.select(
                d.c.id, d.c.job_id, d.c.position, d.c.filename, d.c.size, d.c.state,
                d.c.page_count, d.c.error,
            ).where(d.c.job_id == job_id).order_by(d.c.position)
        )  # fmt: skip
        return [
            JobDocument(r.id, r.job_id, r.position, r.filename, r.size, DocumentState(r.state),
                        r.page_count, r.error)
            for r in rows
        ]  # fmt: skip

    def document_data(self, document_id: int) -> bytes:
        """The document's bytes: from its object, or from its row if stored before those."""
        d = documents_table
        rows = self.store.read(sa.select(d.c.object_key, d.c.data).where(d.c.id == document_id))
        if not rows:
            raise KeyError(f"no document {document_id}")
        key, data = rows[0]
        return self.store.objects.read(key) if key else bytes(data)

    def pages(self, job_id: int, document_id: int | None = None) -> list[StoredPage]:
        """Stored page results of a job (or one of its documents), in document and page order."""
        p, d = pages_table, documents_table
        query = (
            sa.select(p)
            .join(d, d.c.id == p.c.document_id)
            .where(p.c.job_id == job_id)
            .order_by(d.c.position, p.c.page_index)
        )
        if document_id is not None:
            query = query.where(p.c.document_id == document_id)
        return [page_from_row(row) for row in self.store.read(query)]

    # --- what users ask for --------------------------------------------------------------------

    def request_cancel(self, job_id: int) -> JobStatus | None:
        """Ask for a job to stop. A job no live runner holds is cancelled at once; a running
        one is marked and its runner closes the in-flight requests when it next looks."""
        j = jobs_table
        stale = now_ts() - STALE_AFTER_S
        with self.store.transaction() as connection:
            idle = connection.execute(
                j.update()
                .where(
                    j.c.id == job_id,
                    j.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                    sa.or_(j.c.owner.is_(None), j.c.heartbeat_at < stale),
                )
                .values(status=JobStatus.CANCELLED.value, owner=None, cancel_requested=False)
            )
            if not idle.rowcount:
                connection.execute(
                    j.update()
                    .where(j.c.id == job_id, j.c.status == JobStatus.RUNNING.value)
                    .values(cancel_requested=True)
                )
        job = self.job(job_id)
        return None if job is None else job.status

    def retry_pages(
        self,
        job_id: int,
        pages: Iterable[tuple[int, int]] | None = None,
        sampling: Sampling | None = None,
    ) -> int:
        """Mark pages (document id, index) to be read again, or every failed page with None;
        the job goes back in the queue (or keeps running). Returns how many were marked.

        `sampling` is sent with those pages (the new result records it); None: the client's.
        """
        p = pages_table
        marks = {"retry": True, "retry_sampling": sampling_to_json(sampling)}
        with self.store.transaction() as connection:
            if pages is None:
                marked = connection.execute(
                    p.update().where(p.c.job_id == job_id, p.c.error.is_not(None)).values(**marks)
                ).rowcount
            else:
                marked = 0
                for document_id, index in pages:
                    marked += connection.execute(
                        p.update()
                        .where(
                            p.c.job_id == job_id,
                            p.c.document_id == document_id,
                            p.c.page_index == index,
                        )
                        .values(**marks)
                    ).rowcount
            self._requeue(connection, job_id)
        return marked

    def reopen_document(self, document_id: int) -> None:
        """Try a document again (e.g. after its password was given): pending, job queued."""
        d = documents_table
        with self.store.transaction() as connection:
            job_id = connection.execute(
                d.update()
                .where(d.c.id == document_id)
                .values(state=DocumentState.PENDING.value, error=None)
                .returning(d.c.job_id)
            ).scalar_one()
            self._requeue(connection, job_id)

    def resume(self, job_id: int) -> None:
        """Finish a cancelled or interrupted job: its missing and failed pages are sent again."""
        self.retry_pages(job_id)  # marks the failed pages and puts the job back in the queue

    @staticmethod
    def _requeue(connection: sa.Connection, job_id: int) -> None:
        j = jobs_table
        connection.execute(
            j.update()
            .where(j.c.id == job_id, j.c.status != JobStatus.RUNNING.value)
            .values(status=JobStatus.QUEUED.value, finished_at=None, cancel_requested=False)
        )

    # --- retention -----------------------------------------------------------------------------

    def retention_days(self) -> int:
        return int(self.store.get_setting(RETENTION_SETTING, DEFAULT_RETENTION_DAYS))

    def set_retention_days(self, days: int) -> None:
        if days < 1:
            raise ValueError("keep jobs for at least one day")
        self.store.set_setting(RETENTION_SETTING, int(days))

    def prune(self, now: datetime | None = None) -> int:
        """Delete finished jobs older than the retention (with their documents and pages)."""
        cutoff = (
            to_ts(now or datetime.now(UTC)) - timedelta(days=self.retention_days()).total_seconds()
        )
        j = jobs_table
        with self.store.transaction() as connection:
            old = [
                row[0]
                for row in connection.execute(
                    sa.select(j.c.id).where(
                        j.c.created_at < cutoff,
                        j.c.status.not_in([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                    )
                )
            ]
            keys = []
            if old:
                d = documents_table
                keys = [
                    key
                    for (key,) in connection.execute(
                        sa.select(d.c.object_key).where(
                            d.c.job_id.in_(old), d.c.object_key.is_not(None)
                        )
                    )
                ]
                for table in (references_table, words_table, pages_table):
                    connection.execute(table.delete().where(table.c.job_id.in_(old)))
                connection.execute(
                    documents_table.delete().where(documents_table.c.job_id.in_(old))
                )
                connection.execute(j.delete().where(j.c.id.in_(old)))
        self._delete_objects(keys)  # after the rows: a crash in between leaves bytes, not holes
        return len(old)
