"""Alembic's entry point: always handed an open connection (by `upgrade` or `__main__`)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    # Set only when writing a revision (autogenerate compares against it).
    target_metadata=context.config.attributes.get("target_metadata"),
    # SQLite cannot ALTER most things; batch mode copies the table, other databases ALTER.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
