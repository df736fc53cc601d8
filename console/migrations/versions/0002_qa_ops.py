"""QA references, chosen sampling, golden sets, comparisons, warm-up marks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Tables of the QA pages (references in the workbench, golden sets and their runs and scores,
A/B comparisons), the cold-start timeline's marks, and the sampling a user chose for a page.
Golden runs and comparisons name their jobs without foreign keys: jobs are pruned after the
retention period and the scores must stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("left_job_id", sa.Integer(), nullable=False),
        sa.Column("right_job_id", sa.Integer(), nullable=False),
        sa.Column("left_url", sa.Text(), nullable=False),
        sa.Column("right_url", sa.Text(), nullable=False),
        sa.Column("golden_set", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "golden_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "warm_up_marks",
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("warm_up_ts", sa.Float(), nullable=False),
        sa.Column("mark", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "warm_up_ts", "mark"),
    )
    op.create_table(
        "golden_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expected_text", sa.Text(), nullable=False),
        sa.Column("text_filename", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["golden_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("golden_documents", schema=None) as batch_op:
        batch_op.create_index("golden_documents_by_set", ["set_id", "position"], unique=False)

    op.create_table(
        "golden_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("service_url", sa.Text(), nullable=False),
        sa.Column("revision", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("margin", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["set_id"], ["golden_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("golden_runs", schema=None) as batch_op:
        batch_op.create_index("golden_runs_by_set", ["set_id", "started_at"], unique=False)

    op.create_table(
        "golden_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("cer", sa.Float(), nullable=True),
        sa.Column("wer", sa.Float(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("pages_failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("previous_cer", sa.Float(), nullable=True),
        sa.Column("regression", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["golden_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "position"),
    )
    op.create_table(
        "page_references",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["job_documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id", "page_index"),
    )
    with op.batch_alter_table("page_references", schema=None) as batch_op:
        batch_op.create_index("references_by_job", ["job_id"], unique=False)

    with op.batch_alter_table("page_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sampling", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_sampling", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page_results", schema=None) as batch_op:
        batch_op.drop_column("retry_sampling")
        batch_op.drop_column("sampling")

    with op.batch_alter_table("page_references", schema=None) as batch_op:
        batch_op.drop_index("references_by_job")

    op.drop_table("page_references")
    op.drop_table("golden_scores")
    with op.batch_alter_table("golden_runs", schema=None) as batch_op:
        batch_op.drop_index("golden_runs_by_set")

    op.drop_table("golden_runs")
    with op.batch_alter_table("golden_documents", schema=None) as batch_op:
        batch_op.drop_index("golden_documents_by_set")

    op.drop_table("golden_documents")
    op.drop_table("warm_up_marks")
    op.drop_table("golden_sets")
    op.drop_table("comparisons")
