"""Job documents name the worker holding them: several workers share one job on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

On PostgreSQL a job's work is claimed a document at a time (`console/jobs/_shared_ledger.py`):
`job_documents.holder` is the runner working on the document now and `held_at` its last sign
of life, so a crashed holder's documents are taken over once it falls silent. Both nullable:
documents from before are held by no one. SQLite keeps one runner per job and never sets them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_documents") as batch_op:
        batch_op.add_column(sa.Column("holder", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_documents") as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("holder")
