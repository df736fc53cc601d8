"""The store's schema comes from its Alembic history, on SQLite and on a real PostgreSQL.

`compare_metadata` finding nothing is what forces every change to the tables (a new table,
a new column) to come with its migration: without one, a database opened by the new console
would not match the tables its code declares.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from console import migrations
from console._store import DB_NAME, Store
from console.jobs import JobStore
from tests.fakes.postgres import PostgresServer

_names = itertools.count()

# What a console from before migrations (commit 02e5089's code, a little older still: no
# warm_ups.cold) left in its SQLite file, with a row in each table that matters.
BEFORE_MIGRATIONS = """
CREATE TABLE samples (platform TEXT NOT NULL, "key" TEXT NOT NULL, label TEXT NOT NULL,
    ts FLOAT NOT NULL, value FLOAT NOT NULL);
CREATE INDEX samples_by_time ON samples (platform, ts);
CREATE TABLE audit (id INTEGER NOT NULL, ts FLOAT NOT NULL, actor TEXT NOT NULL,
    platform TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, ok BOOLEAN NOT NULL,
    detail TEXT NOT NULL, PRIMARY KEY (id));
CREATE TABLE warm_ups (id INTEGER NOT NULL, ts FLOAT NOT NULL, platform TEXT NOT NULL,
    ready BOOLEAN NOT NULL, seconds FLOAT NOT NULL, attempts INTEGER NOT NULL, error TEXT,
    PRIMARY KEY (id));
CREATE TABLE settings ("key" TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE jobs (id INTEGER NOT NULL, name TEXT NOT NULL, actor TEXT NOT NULL,
    created_at FLOAT NOT NULL, status VARCHAR(16) NOT NULL, service_url TEXT NOT NULL,
    revision TEXT, use_text_layer BOOLEAN NOT NULL, run_seconds FLOAT NOT NULL, owner TEXT,
    run_started_at FLOAT, heartbeat_at FLOAT, finished_at FLOAT,
    cancel_requested BOOLEAN NOT NULL, error TEXT, PRIMARY KEY (id));
CREATE INDEX jobs_by_status ON jobs (status);
CREATE TABLE job_documents (id INTEGER NOT NULL, job_id INTEGER NOT NULL,
    position INTEGER NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL,
    data BLOB NOT NULL, state VARCHAR(16) NOT NULL, page_count INTEGER NOT NULL, error TEXT,
    PRIMARY KEY (id), FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE);
CREATE INDEX documents_by_job ON job_documents (job_id, position);
CREATE TABLE page_results (document_id INTEGER NOT NULL, page_index INTEGER NOT NULL,
    job_id INTEGER NOT NULL, text TEXT NOT NULL, error TEXT, error_type VARCHAR(64),
    truncated BOOLEAN NOT NULL, latency_s FLOAT NOT NULL, attempts INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    finish_reason VARCHAR(32), source VARCHAR(16) NOT NULL, has_text_layer BOOLEAN,
    width INTEGER, height INTEGER, request_id TEXT, revision TEXT, started_at FLOAT NOT NULL,
    finished_at FLOAT NOT NULL, retry BOOLEAN NOT NULL,
    PRIMARY KEY (document_id, page_index),
    FOREIGN KEY(document_id) REFERENCES job_documents (id) ON DELETE CASCADE,
    FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE);
CREATE INDEX pages_by_job ON page_results (job_id);
INSERT INTO warm_ups VALUES (1, 1700000000.0, 'local', 1, 84.5, 12, NULL);
INSERT INTO audit VALUES (1, 1700000000.0, 'ana', 'local', 'scale', 'floor', 1, '1');
INSERT INTO jobs VALUES (1, 'scan.pdf', 'ana', 1700000000.0, 'done', 'http://x', NULL, 0, 3.0,
    NULL, NULL, NULL, 1700000003.0, 0, NULL);
INSERT INTO job_documents VALUES (1, 1, 0, 'scan.pdf', 3, X'255044', 'opened', 1, NULL);
INSERT INTO page_results VALUES (1, 0, 1, 'Hello', NULL, NULL, 0, 1.5, 1, 10, 5, 'stop',
    'ocr', 0, 100, 200, 'req-1', NULL, 1700000001.0, 1700000002.5, 0);
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / DB_NAME}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"migrations_{next(_names)}")


def schema_differences(store: Store) -> list[object]:
    """What Alembic's autogenerate would write: the code's tables against the database."""
    metadata = migrations.load_all_tables()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def revision_of(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return migrations.current(connection)


def test_a_new_database_upgraded_to_head_matches_the_code_s_tables(database_url: str) -> None:
    store = Store(url=database_url)
    assert revision_of(store) == migrations.head()
    assert schema_differences(store) == []
    store.close()


def test_opening_a_store_at_head_again_changes_nothing(database_url: str) -> None:
    Store(url=database_url).close()
    again = Store(url=database_url)
    assert revision_of(again) == migrations.head()
    assert schema_differences(again) == []
    again.close()


def test_a_store_from_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_NAME) as old:
        old.executescript(BEFORE_MIGRATIONS)
    store = Store.in_dir(tmp_path)
    assert revision_of(store) == migrations.head()
    assert schema_differences(store) == []
    [warm_up] = store.warm_ups()
    assert (warm_up.seconds, warm_up.cold) == (84.5, False)  # the new column's default
    assert [a.actor for a in store.audit()] == ["ana"]
    jobs = JobStore(store)
    [page] = jobs.pages(1)
    assert (page.result.text, page.result.confidence, page.request_id) == ("Hello", None, "req-1")


def test_consoles_opening_one_new_postgres_database_at_once_all_succeed(
    postgres: PostgresServer,
) -> None:
    """The migration runs under an advisory lock: the second console waits, then finds the
    database at head instead of creating the tables twice."""
    url = postgres.create_database(f"migrations_{next(_names)}")
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            Store(url=url).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    store = Store(url=url)
    assert schema_differences(store) == []
    rows = store.read(sa.text("SELECT count(*) FROM alembic_version"))
    assert rows[0][0] == 1
    store.close()
