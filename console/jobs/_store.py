"""Jobs in the console's store as users see them: create, list, read back, cancel, retry.

Every method is one short transaction on the shared `Store`'s engine; the runner's side
(claim, heartbeat, write pages) is `JobLedger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from console._store import Store, from_ts
from console.jobs._ledger import STALE_AFTER_S
from console.jobs._models import (
    DocumentState,
    Job,
    JobDocument,
    JobStatus,
    StoredPage,
)
from console.jobs._retention import JobRetention
from console.jobs._rows import bounded_text, now_ts, page_from_row, sampling_to_json
from console.jobs._tables import (
    documents_table,
    jobs_table,
    pages_table,
)
from console.jobs._truth_rows import newest_truths, with_truths
from console.jobs._uploads import (
    NewDocument,
    delete_objects,
    storable_filename,
    store_uploads,
)
from console.jobs._words import WordsStore
from ocr_core import Sampling


class JobStore(JobRetention):
    """The job tables of one `Store` (same engine, same file or database); what is kept and
    for how long is `JobRetention`."""

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
        name = storable_filename(name)
        stored = store_uploads(self.store.objects, documents)
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
                        {
                            "job_id": job_id,
                            "position": n,
                            "filename": storable_filename(d.filename),
                            "size": size,
                            "data": b"",
                            "object_key": key,
                            "state": DocumentState.PENDING.value,
                            "page_count": 0,
                        }
                        for n, (d, (key, size)) in enumerate(zip(documents, stored, strict=True))
                    ],
                )
        except BaseException:
            delete_objects(self.store.objects, [key for key, _size in stored])
            raise
        return int(job_id)

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
                d.c.id,
                d.c.job_id,
                d.c.position,
                d.c.filename,
                d.c.size,
                d.c.state,
                d.c.page_count,
                d.c.error,
            )
            .where(d.c.job_id == job_id)
            .order_by(d.c.position)
        )
        return [
            JobDocument(
                r.id,
                r.job_id,
                r.position,
                r.filename,
                r.size,
                DocumentState(r.state),
                r.page_count,
                r.error,
            )
            for r in rows
        ]

    def document_data(self, document_id: int) -> bytes:
        """The document's bytes: from its object, or from its row if stored before those."""
        d = documents_table
        rows = self.store.read(sa.select(d.c.object_key, d.c.data).where(d.c.id == document_id))
        if not rows:
            raise KeyError(f"no document {document_id}")
        key, data = rows[0]
        return self.store.objects.read(key) if key else bytes(data)

    def pages(
        self,
        job_id: int,
        document_id: int | None = None,
        *,
        index: int | None = None,
        with_text: bool = True,
    ) -> list[StoredPage]:
        """Stored page results of a job (or one of its documents, or one page of it), in
        document and page order; `with_text=False` leaves the text out (counts, confidence,
        errors and timing of thousands of pages, as a page view needs them, read cheaply)."""
        p, d = pages_table, documents_table
        columns = [column for column in p.c if column.name != "text"]
        text = bounded_text(p.c.text) if with_text else sa.literal("").label("text")
        query = (
            sa.select(*columns, text)  # a page's text, never unbounded
            .join(d, d.c.id == p.c.document_id)
            .where(p.c.job_id == job_id)
            .order_by(d.c.position, p.c.page_index)
        )
        if document_id is not None:
            query = query.where(p.c.document_id == document_id)
        if index is not None:
            query = query.where(p.c.page_index == index)
        pages = [page_from_row(row) for row in self.store.read(query)]
        return with_truths(pages, newest_truths(self.store, job_id), with_text=with_text)

    def outcome(self, job_id: int) -> JobStatus:
        """How a run that sent every page ends: failed when no page was read."""
        job = self.job(job_id)
        assert job is not None
        return JobStatus.FAILED if job.pages_done == 0 else JobStatus.DONE

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
