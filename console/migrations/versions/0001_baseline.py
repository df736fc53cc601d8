"""Baseline: the store as the last console without migrations left it.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

On an empty database this creates every table. On a store made before migrations (tables
present, no alembic_version) it adopts what is there: missing tables are created and the
columns that older consoles lacked (all nullable or with a server default, e.g.
`warm_ups.cold`, `page_results.confidence`) are added; rows are kept. The tables are
written out here, frozen, so later changes to the code's tables never rewrite history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _baseline() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "samples",
        metadata,
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Index("samples_by_time", "platform", "ts"),
    )
    sa.Table(
        "audit",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    sa.Table(
        "warm_ups",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("ready", sa.Boolean, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("cold", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    sa.Table(
        "settings",
        metadata,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("service_url", sa.Text, nullable=False),
        sa.Column("revision", sa.Text),
        sa.Column("use_text_layer", sa.Boolean, nullable=False),
        sa.Column("run_seconds", sa.Float, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("run_started_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Index("jobs_by_status", "status"),
    )
    sa.Table(
        "job_documents",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Index("documents_by_job", "job_id", "position"),
    )
    sa.Table(
        "page_results",
        metadata,
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("page_index", sa.Integer, primary_key=True),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("error_type", sa.String(64)),
        sa.Column("truncated", sa.Boolean, nullable=False),
        sa.Column("latency_s", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("finish_reason", sa.String(32)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("has_text_layer", sa.Boolean),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("request_id", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("low_confidence", sa.Text),
        sa.Column("rerun_reason", sa.String(16)),
        sa.Column("revision", sa.Text),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("retry", sa.Boolean, nullable=False),
        sa.Index("pages_by_job", "job_id"),
    )
    return metadata


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for table in _baseline().sorted_tables:
        if table.name not in present:
            table.create(bind)
            continue
        # A store from before migrations: add what an older console did not have.
        have = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(
                    f"the store's table {table.name} lacks column {column.name}, which has no "
                    "default: this store predates any console that can adopt it"
                )
            op.add_column(
                table.name,
                sa.Column(
                    column.name,
                    column.type,
                    nullable=column.nullable,
                    server_default=getattr(column.server_default, "arg", None),
                ),
            )


def downgrade() -> None:
    for table in reversed(_baseline().sorted_tables):
        op.drop_table(table.name)
