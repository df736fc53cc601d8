"""A page's words say whether its text seems to read the page out of order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

`page_words.order_doubt`: the reason `ocr_core.check_order` gave when the service's text steps
back through the engine's reading order too often (columns read across), else NULL. The
review queue takes such a page as "reading order". Pages located before have none: they are
not doubted for it until located again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("page_words") as batch_op:
        batch_op.add_column(sa.Column("order_doubt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page_words") as batch_op:
        batch_op.drop_column("order_doubt")
