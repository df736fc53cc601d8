"""The review tables, on the store's one MetaData: a page's truth versions, the pages a
person sent to review, and who has a page open.

A truth version is never changed or deleted: approving, saving and restoring each add the
next version, so every earlier text stays viewable and restorable. The unique key
(document, page, version) is the optimistic lock: two saves on top of one version cannot
both land, the second finds its number taken and is refused with the difference.
"""

from __future__ import annotations

import sqlalchemy as sa

from console._store import METADATA

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

# Pages a person sent to review (a whole job sends each of its pages).
requests_table = sa.Table(
    "review_requests",
    METADATA,
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("page_index", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Who has a page open to review, and when they were last seen on it.
presence_table = sa.Table(
    "review_presence",
    METADATA,
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("page_index", sa.Integer, primary_key=True),
    sa.Column("actor", sa.Text, primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)
