"""Reference texts (ground truth) of a job's documents, kept in the `page_references` table.

A reference is stored per page, or once for the whole document (`WHOLE_DOCUMENT`) when the
text has no page breaks: the document's page count is only known once the runner opened it,
so which pages a whole text covers is decided when it is shown, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from console._store import Store
from console.jobs._rows import now_ts
from console.jobs._tables import references_table

WHOLE_DOCUMENT = -1


@dataclass(frozen=True, slots=True)
class Reference:
    document_id: int
    page_index: int  # WHOLE_DOCUMENT for a text without page breaks
    text: str
    origin: str
    note: str | None = None


class ReferenceStore:
    """The references of one `Store` (the job tables' engine; JobStore creates the table)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def attach(
        self,
        job_id: int,
        document_id: int,
        pages: Sequence[str],
        *,
        origin: str,
        note: str | None = None,
    ) -> None:
        """A document's reference, replacing any it had: one text is WHOLE_DOCUMENT."""
        r = references_table
        indexes = [WHOLE_DOCUMENT] if len(pages) == 1 else list(range(len(pages)))
        with self.store.transaction() as connection:
            connection.execute(r.delete().where(r.c.document_id == document_id))
            connection.execute(
                r.insert(),
                [
                    {
                        "document_id": document_id,
                        "page_index": index,
                        "job_id": job_id,
                        "text": text,
                        "origin": origin,
                        "note": note,
                        "created_at": now_ts(),
                    }
                    for index, text in zip(indexes, pages, strict=True)
                ],
            )

    def set_page(self, job_id: int, document_id: int, index: int, text: str, origin: str) -> None:
        """One page's reference (pasted), replacing that page's only."""
        r = references_table
        with self.store.transaction() as connection:
            connection.execute(
                r.delete().where(r.c.document_id == document_id, r.c.page_index == index)
            )
            connection.execute(
                r.insert().values(
                    document_id=document_id,
                    page_index=index,
                    job_id=job_id,
                    text=text,
                    origin=origin,
                    note=None,
                    created_at=now_ts(),
                )
            )

    def remove_page(self, document_id: int, index: int) -> int:
        r = references_table
        with self.store.transaction() as connection:
            return connection.execute(
                r.delete().where(r.c.document_id == document_id, r.c.page_index == index)
            ).rowcount

    def of_job(self, job_id: int) -> list[Reference]:
        r = references_table
        rows = self.store.read(
            sa.select(r.c.document_id, r.c.page_index, r.c.text, r.c.origin, r.c.note)
            .where(r.c.job_id == job_id)
            .order_by(r.c.document_id, r.c.page_index)
        )
        return [Reference(*row) for row in rows]
