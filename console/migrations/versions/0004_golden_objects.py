"""Golden documents' bytes in the object store too: a key per document, the row's bytes optional

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

As 0003 did for jobs' documents: new golden documents keep a key and an empty `data`; those
registered before are read from their row (a schema migration does not copy bytes around).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("golden_documents", sa.Column("object_key", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("golden_documents", "object_key")
