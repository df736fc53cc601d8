"""Golden runs say what shaped their text; scores are order-free too; jobs say their purpose

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

`golden_runs.settings` (JSON) holds the sampling, max tokens, model, page size sent, revision
and a digest of the set's contents a run was read with, so `history` can say what changed.
`golden_scores` gains the order-free measures (word precision/recall, order-free CER): None in
runs scored before. `jobs.purpose` marks jobs that are not a person's upload ("golden set").
Every new column is nullable: rows from before keep their meaning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("golden_runs") as batch_op:
        batch_op.add_column(sa.Column("settings", sa.Text(), nullable=True))
    with op.batch_alter_table("golden_scores") as batch_op:
        batch_op.add_column(sa.Column("order_free_cer", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("word_precision", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("word_recall", sa.Float(), nullable=True))
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("golden_scores") as batch_op:
        batch_op.drop_column("word_recall")
        batch_op.drop_column("word_precision")
        batch_op.drop_column("order_free_cer")
    with op.batch_alter_table("golden_runs") as batch_op:
        batch_op.drop_column("settings")
