"""The golden-set tables, on the store's one MetaData (the lead's Alembic migration adds them).

Scores are kept in their own rows, not read back from the job: jobs are pruned after their
retention, a revision's scores are history.
"""

from __future__ import annotations

import sqlalchemy as sa

from console._store import METADATA

golden_sets_table = sa.Table(
    "golden_sets",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
)

golden_documents_table = sa.Table(
    "golden_documents",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "set_id", sa.Integer, sa.ForeignKey("golden_sets.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    # Bytes of documents registered before the object store (migration 0004); new ones have
    # b"" here and their bytes under `object_key`.
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("object_key", sa.Text),
    sa.Column("expected_text", sa.Text, nullable=False),
    sa.Column("text_filename", sa.Text, nullable=False),
    sa.Index("golden_documents_by_set", "set_id", "position"),
)

golden_runs_table = sa.Table(
    "golden_runs",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "set_id", sa.Integer, sa.ForeignKey("golden_sets.id", ondelete="CASCADE"), nullable=False
    ),
    # Not a foreign key: the job may be pruned, the run's scores stay.
    sa.Column("job_id", sa.Integer, nullable=False),
    sa.Column("service_url", sa.Text, nullable=False),
    sa.Column("revision", sa.Text),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("margin", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
    # JSON: what shapes the text (sampling, max tokens, model, page size sent, the set's
    # contents): `history` says what changed between two runs.
    sa.Column("settings", sa.Text),
    sa.Index("golden_runs_by_set", "set_id", "started_at"),
)

golden_scores_table = sa.Table(
    "golden_scores",
    METADATA,
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("golden_runs.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("cer", sa.Float),
    sa.Column("wer", sa.Float),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("pages_failed", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("previous_cer", sa.Float),
    sa.Column("regression", sa.Boolean, nullable=False),
    # Order-free measures (ocr_core.quality): None in runs scored before they existed.
    sa.Column("order_free_cer", sa.Float),
    sa.Column("word_precision", sa.Float),
    sa.Column("word_recall", sa.Float),
)
