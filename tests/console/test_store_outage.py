"""The database goes away (issue 14): a clear page, never a traceback, and nothing lost.

A real PostgreSQL (tests/fakes/postgres.py) is stopped and started again under the console;
an unreachable database is a URL whose port nobody listens on.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import AuditRecord, Store, StoreError
from console.jobs import JobRunner, JobStatus, JobStore
from console.service import Operations
from console.ui._state import _operations_from_env, install_operations
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.console.local_platform import free_port, local_platforms
from tests.console.ui.views.console_ops import app
from tests.fakes.local_server import LocalServer, start_local_server
from tests.fakes.postgres import PostgresServer, running_postgres

_names = itertools.count()
OUTAGE_TITLE = "The console's database cannot be reached"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    return postgres.create_database(f"outage_{next(_names)}")


@pytest.fixture
def outage(postgres: PostgresServer) -> Iterator[PostgresServer]:
    """The server, started again at the end whatever the test did."""
    yield postgres
    with contextlib.suppress(subprocess.CalledProcessError):  # already running
        postgres.start()


def _record(actor: str) -> AuditRecord:
    from datetime import UTC, datetime

    return AuditRecord(datetime.now(UTC), actor, "cloudrun", "scale", "svc", True, "1")


def test_an_unreachable_database_is_a_page_saying_so_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://console:s3cret@127.0.0.1:{free_port()}/ocr"
    monkeypatch.setenv("LIGHTONOCR_DATABASE_URL", url)
    monkeypatch.setenv("LIGHTONOCR_DATA_DIR", str(tmp_path))
    install_operations(None)
    _operations_from_env.clear()  # an earlier test's console, built from another environment
    try:
        at = app().run()
    finally:
        _operations_from_env.clear()
    assert not at.exception
    assert at.title[0].value == OUTAGE_TITLE
    [error] = at.error
    assert "127.0.0.1" in error.value and "s3cret" not in error.value
    assert "Nothing is lost" in at.markdown[0].value


def test_the_store_answers_again_once_the_database_is_back(
    outage: PostgresServer, database_url: str
) -> None:
    store = Store(url=database_url)
    store.add_audit(_record("before"))
    outage.stop()
    with pytest.raises(StoreError, match="cannot write to the console's store at postgresql"):
        store.add_audit(_record("during"))
    outage.start()
    store.add_audit(_record("after"))  # the same Store: its pool replaced the dead connections
    assert [a.actor for a in store.audit()] == ["after", "before"]
    store.close()


def test_the_console_shows_the_outage_and_comes_back_with_the_database(
    outage: PostgresServer, database_url: str, tmp_path: Path
) -> None:
    store = Store(url=database_url)
    with local_platforms(tmp_path) as make:
        platform = make(store=store)
        install_operations(Operations(platform, store, actor="qa-tester"))
        try:
            at = app().run()
            assert not at.exception and at.title[0].value == "OCR workbench"
            outage.stop()
            at.run()
            assert not at.exception
            assert at.title[0].value == OUTAGE_TITLE
            outage.start()
            at.button(key="store_retry").click().run()
            assert not at.exception
            assert at.title[0].value == "OCR workbench"
        finally:
            install_operations(None)
    store.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with start_local_server("--engine", "simulated", "--service-time", "0.3") as running:
        yield running


def test_a_job_cut_by_an_outage_keeps_its_pages_and_finishes_once_resumed(
    outage: PostgresServer, database_url: str, server: LocalServer
) -> None:
    store = Store(url=database_url)
    jobs = JobStore(store)
    job_id = submit(jobs, ("long.pdf", make_pdf(30)))
    settings = ClientSettings(base_url=server.base_url, concurrency=2, auth="none")
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    try:
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 3, timeout_s=60)
        outage.stop()
        assert wait_until(lambda: runner.running() == [], timeout_s=30)  # the run gave up
        outage.start()
        kept = {(p.document_id, p.index): p.finished_at for p in jobs.pages(job_id)}
        assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=30)  # released
        if jobs.job(job_id).status is not JobStatus.DONE:
            jobs.resume(job_id)
            runner.wake()
        assert wait_until(lambda: jobs.job(job_id).status is JobStatus.DONE, timeout_s=90)
    finally:
        runner.stop()
    pages = jobs.pages(job_id)
    assert sorted(p.index for p in pages) == list(range(30))  # every page, once
    for page in pages:  # the pages written before the outage were not redone
        key = (page.document_id, page.index)
        if key in kept:
            assert page.finished_at == kept[key]
    store.close()
