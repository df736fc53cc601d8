"""Words located on each page: a row per page with its words' boxes, and a job's choice

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

`page_words` holds, per page result, the page's words with their boxes on the page image
(JSON, `ocr_core.PageWords.to_json`), or why they could not be located. A page read again
loses its row with its text. `jobs.locate_words` says whether the worker locates a job's
words; jobs from before this migration did not ask for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column("locate_words", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "page_words",
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("page_index", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("words", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("located_at", sa.Float(), nullable=False),
    )
    op.create_index("words_by_job", "page_words", ["job_id"])


def downgrade() -> None:
    op.drop_index("words_by_job", table_name="page_words")
    op.drop_table("page_words")
    op.drop_column("jobs", "locate_words")
