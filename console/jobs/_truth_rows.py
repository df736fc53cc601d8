"""A page's truth: the text a person approved or corrected, which the job's exports, its
located words and its page views use instead of the model's.

The versions are written by review (`console.review`); this module holds their table and
the one read every job path needs (the newest version of each page), so the job package
reads truths without depending on review.

A truth version is never changed or deleted: approving, saving and restoring each add the
next version, so every earlier text stays viewable and restorable. The unique key
(document, page, version) is the optimistic lock: two saves on top of one version cannot
both land, the second finds its number taken and is refused with the difference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa

from console._store import METADATA, Store
from console.jobs._models import StoredPage

truths_table = sa.Table(
    "page_truths",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("page_index", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # "approved" (the text kept as it was), "corrected" (a person's text), "restored" (an
    # earlier version's text again).
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # What the model read and with which revision, and why the page was in the queue: the
    # quality figures compare the model's text with the truth and the reasons with the change.
    sa.Column("revision", sa.Text),
    sa.Column("model_text", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.UniqueConstraint("document_id", "page_index", "version", name="truth_versions"),
    sa.Index("truths_by_job", "job_id"),
)


@dataclass(frozen=True, slots=True)
class TruthMark:
    """A page's newest truth as the exports need it."""

    text: str
    actor: str
    version: int
    corrected: bool  # the text differs from the model's


def newest_version() -> sa.Subquery:
    """(document, page, newest version) of every page with a truth."""
    t = truths_table
    return (
        sa.select(t.c.document_id, t.c.page_index, sa.func.max(t.c.version).label("version"))
        .group_by(t.c.document_id, t.c.page_index)
        .subquery()
    )


def newest_truths(store: Store, job_id: int) -> dict[tuple[int, int], TruthMark]:
    """The newest truth of each reviewed page of the job, by (document, page)."""
    t, newest = truths_table, newest_version()
    rows = store.read(
        sa.select(t.c.document_id, t.c.page_index, t.c.text, t.c.actor, t.c.version, t.c.model_text)
        .join(
            newest,
            sa.and_(
                newest.c.document_id == t.c.document_id,
                newest.c.page_index == t.c.page_index,
                newest.c.version == t.c.version,
            ),
        )
        .where(t.c.job_id == job_id)
    )
    return {
        (row.document_id, row.page_index): TruthMark(
            row.text, row.actor, row.version, row.text != row.model_text
        )
        for row in rows
    }


def with_truths(
    pages: list[StoredPage], truths: dict[tuple[int, int], TruthMark], *, with_text: bool
) -> list[StoredPage]:
    """The pages with a reviewed page's text replaced by its truth (who reviewed it said):
    the text every export, page view and word locating then uses. Its doubtful words were
    the model's, at offsets of the model's text, so they go."""
    if not truths:
        return pages
    kept = []
    for page in pages:
        mark = truths.get((page.document_id, page.index))
        if mark is None or not page.result.ok:
            kept.append(page)
            continue
        result = dataclasses.replace(
            page.result,
            text=mark.text if with_text else page.result.text,
            low_confidence=(),
            reviewed_by=mark.actor,
            corrected=mark.corrected,
        )
        kept.append(dataclasses.replace(page, result=result))
    return kept
