"""The review tables, on the store's one MetaData: the pages a person sent to review and
who has a page open (a page's truth versions are a job table, `console.jobs._truth_rows`,
since every export of the job reads them).
"""

from __future__ import annotations

import sqlalchemy as sa

from console._store import METADATA
from console.jobs._truth_rows import truths_table

__all__ = ["presence_table", "requests_table", "truths_table"]

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
