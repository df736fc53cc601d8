"""Review: page truth versions, pages sent to review, who is on a page

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

`page_truths` keeps every version of a page's truth (approved, corrected, restored) with who,
when, the revision that read the page and the model's text; (document, page, version) is
unique, the lock that refuses a save over a newer version. `review_requests` holds the pages
a person sent to review; `review_presence` who has a page open.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _page_key() -> list[sa.Column[int]]:
    return [
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("page_index", sa.Integer(), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "page_truths",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revision", sa.Text()),
        sa.Column("model_text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float()),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.UniqueConstraint("document_id", "page_index", "version", name="truth_versions"),
    )
    op.create_index("truths_by_job", "page_truths", ["job_id"])
    op.create_table(
        "review_requests",
        *_page_key(),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "review_presence",
        *_page_key(),
        sa.Column("actor", sa.Text(), primary_key=True),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_presence")
    op.drop_table("review_requests")
    op.drop_index("truths_by_job", table_name="page_truths")
    op.drop_table("page_truths")
