"""Documents' bytes in an object store: a key per document, the row's bytes optional

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

New documents keep only a key (console/_objects.py) and an empty `data` (the column stays
NOT NULL: on SQLite making it nullable means rebuilding the table, and with foreign keys on,
dropping the old table would cascade to every page result). Documents written before stay
as they are and are read from their row: moving gigabytes out inside a schema
migration would hold the console's start (and the PostgreSQL advisory lock) for as long as
the copy took, and a failed copy half-way would leave the migration to repeat. Retention
removes them with their jobs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_documents", sa.Column("object_key", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("job_documents", "object_key")
