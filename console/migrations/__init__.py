"""The store's schema history (Alembic), applied by `Store` whenever it opens a database.

Every console opens the store with `upgrade(engine)`, so a new console version brings an
older database (SQLite file or the team's PostgreSQL) to its schema before it reads a row.
Revisions live in `versions/`; `python -m console.migrations revision -m "why"` writes the
next one by comparing a database at head with `METADATA` (see docs/ARCHITECTURE.md).

A store made before Alembic (tables, no `alembic_version`) is adopted by the baseline
revision itself: it creates the tables that are missing and adds the columns older consoles
lacked, so there is no separate stamp step that could be forgotten.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).parent
# Two consoles starting at once on one PostgreSQL database migrate one after the other.
_PG_LOCK_KEY = 0x4C4F4352  # "LOCR"


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts are in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """The newest revision in `versions/`."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    """The revision the database is at (None: new, or made before migrations)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to head; a no-op (one query) when it is there already."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if current(connection) == head():
            return
        command.upgrade(config(connection), "head")


def load_all_tables() -> sa.MetaData:
    """`METADATA` with every table the console defines: the modules that define tables are
    imported (all of `console` but the Streamlit scripts), so autogenerate and the schema
    test see a table wherever it was declared."""
    import console
    from console._store import METADATA

    for module in pkgutil.walk_packages(console.__path__, "console."):
        name = module.name
        if name.startswith(("console.ui.views", "console.app", "console.migrations")):
            continue
        if name.endswith("__main__"):
            continue
        importlib.import_module(name)
    return METADATA
