"""`python -m console.migrations revision -m "why"`: write the next revision.

Alembic's autogenerate compares a database at head (a fresh SQLite file, upgraded here) with
the tables the code declares, and writes the difference into `versions/`. Read the file it
writes before committing: autogenerate does not see renames, and data moves are yours.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from console.migrations import config, load_all_tables, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate the next revision")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{Path(folder) / 'head.sqlite3'}")
        upgrade(engine)
        with engine.begin() as connection:
            cfg = config(connection)
            cfg.attributes["target_metadata"] = load_all_tables()
            command.revision(cfg, message=args.message, autogenerate=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
