"""Words located on a job's pages: what the worker writes after a page's text, and what
the workbench's overlay and the exports read.

A page's words are located on the page image the service read (the same rendering), so
their boxes are in that image's pixels (`PageWords.width` x `height`); a view scales them to
whatever size it shows. A page read again loses its words with its old text
(`JobLedger.save_page`), and the worker locates the new text.

Every read page gets a row once the locator has been to it, a page without text too (no
words), so "k of n pages located" reaches n; text comes first, the words follow (DESIGN:
"text first, extras after").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from console._store import Store
from console.jobs._rows import bounded_text, now_ts
from console.jobs._tables import jobs_table, pages_table, words_table
from console.jobs._truth_rows import newest_version, truths_table
from ocr_core import PageWords, check_order


@dataclass(frozen=True, slots=True)
class StoredWords:
    """A page's located words, or why they could not be located."""

    document_id: int
    page_index: int
    words: PageWords | None
    error: str | None
    seconds: float
    order_doubt: str | None = None


class WordsStore:
    """The `page_words` table of one `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def next_to_locate(self) -> tuple[int, int] | None:
        """(job, document) of the oldest job that asked for words and has a read page not
        located yet: what the worker's locator takes next, whatever the job's status."""
        p, w, j = pages_table, words_table, jobs_table
        located = sa.exists().where(
            w.c.document_id == p.c.document_id, w.c.page_index == p.c.page_index
        )
        rows = self.store.read(
            sa.select(p.c.job_id, p.c.document_id)
            .join(j, j.c.id == p.c.job_id)
            .where(j.c.locate_words, p.c.error.is_(None), sa.not_(p.c.retry), ~located)
            .order_by(p.c.job_id, p.c.document_id)
            .limit(1)
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def pages_to_locate(self, document_id: int) -> list[tuple[int, str]]:
        """(page, text) of the document's pages read without error and not located yet; a
        page without text or past the text bound is among them (its row says so)."""
        p, w, t, newest = pages_table, words_table, truths_table, newest_version()
        located = sa.select(w.c.page_index).where(w.c.document_id == document_id)
        truth = (  # a reviewed page's words are located on its truth, not the model's text
            sa.select(t.c.text)
            .join(
                newest,
                sa.and_(
                    newest.c.document_id == t.c.document_id,
                    newest.c.page_index == t.c.page_index,
                    newest.c.version == t.c.version,
                ),
            )
            .where(t.c.document_id == p.c.document_id, t.c.page_index == p.c.page_index)
            .scalar_subquery()
        )
        rows = self.store.read(
            sa.select(p.c.page_index, bounded_text(sa.func.coalesce(truth, p.c.text)))
            .where(
                p.c.document_id == document_id,
                p.c.error.is_(None),
                sa.not_(p.c.retry),
                p.c.page_index.not_in(located),
            )
            .order_by(p.c.page_index)
        )
        return [(int(index), str(text)) for index, text in rows]

    def save(
        self,
        job_id: int,
        document_id: int,
        index: int,
        words: PageWords | None,
        *,
        error: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Keep a page's words (or why there are none), replacing what it had."""
        w = words_table
        with self.store.transaction() as connection:
            connection.execute(
                w.delete().where(w.c.document_id == document_id, w.c.page_index == index)
            )
            connection.execute(
                w.insert().values(
                    document_id=document_id,
                    page_index=index,
                    job_id=job_id,
                    words=None if words is None else words.to_json(),
                    error=error,
                    seconds=seconds,
                    located_at=now_ts(),
                    order_doubt=None if words is None else check_order(words).reason(),
                )
            )

    def forget(self, document_id: int, index: int) -> None:
        """Drop a page's words (its text changed in review): the worker locates it again."""
        w = words_table
        with self.store.transaction() as connection:
            connection.execute(
                w.delete().where(w.c.document_id == document_id, w.c.page_index == index)
            )

    def page(self, document_id: int, index: int) -> StoredWords | None:
        w = words_table
        rows = self.store.read(
            sa.select(w).where(w.c.document_id == document_id, w.c.page_index == index)
        )
        return _stored(rows[0]) if rows else None

    def job(self, job_id: int) -> dict[tuple[int, int], StoredWords]:
        """Every located page of the job, by (document, page)."""
        w = words_table
        rows = self.store.read(sa.select(w).where(w.c.job_id == job_id))
        return {(row.document_id, row.page_index): _stored(row) for row in rows}

    def counts(self, job_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(pages located, pages that could not be) per job."""
        w = words_table
        ids = list(job_ids)
        if not ids:
            return {}
        rows = self.store.read(
            sa.select(
                w.c.job_id,
                sa.func.sum(sa.case((w.c.words.is_not(None), 1), else_=0)),
                sa.func.sum(sa.case((w.c.words.is_(None), 1), else_=0)),
            )
            .where(w.c.job_id.in_(ids))
            .group_by(w.c.job_id)
        )
        return {job_id: (int(done or 0), int(failed or 0)) for job_id, done, failed in rows}


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredWords:
    m = row._mapping
    return StoredWords(
        document_id=int(m["document_id"]),
        page_index=int(m["page_index"]),
        words=PageWords.from_json(m["words"]) if m["words"] else None,
        error=m["error"],
        seconds=float(m["seconds"]),
        order_doubt=m["order_doubt"],
    )
