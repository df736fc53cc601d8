"""Several runners share one job on a real PostgreSQL, a document at a time.

Runners are told apart by the revision they record on each page they save (`revision=`), so
a test sees who read what; the server's own count of answers proves each page went once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest

from console._store import Store
from console.jobs import JobRunner, JobStatus, JobStore
from console.jobs._ledger import STALE_AFTER_S, JobLedger
from console.jobs._models import DocumentState
from console.jobs._shared_ledger import SharedLedger, ledger_for
from console.jobs._tables import documents_table
from ocr_core import ClientSettings, OCRClient, PageResult
from tests.console.jobs.conftest import in_flight, make_pdf, submit, wait_until
from tests.console.jobs.test_postgres import completions
from tests.fakes.local_server import LocalServer
from tests.fakes.postgres import PostgresServer

_names = itertools.count()


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    return postgres.create_database(f"shared_{next(_names)}")


@pytest.fixture
def shared_store(database_url: str) -> Iterator[Store]:
    store = Store(url=database_url)
    yield store
    store.close()


def _runner(database_url: str, base_url: str, name: str) -> JobRunner:
    """A runner on its own connection to the database, as a second console worker is."""
    settings = ClientSettings(base_url=base_url, concurrency=4, max_attempts=1, auth="none")
    return JobRunner(
        Store(url=database_url),
        lambda: OCRClient(settings=settings),
        revision=lambda: name,
        owner=f"worker-{name}",
        poll_s=0.1,
    ).start()


def _read(ledger: SharedLedger, job_id: int, document_id: int, pages: int) -> None:
    ledger.set_document(document_id, DocumentState.OPENED, pages)
    for index in range(pages):
        ledger.save_page(
            job_id,
            document_id,
            PageResult(index=index, text="x"),
            request_id=None,
            revision=None,
            started_at=0.0,
        )


def test_the_ledger_is_shared_on_postgresql_and_whole_jobs_on_sqlite(
    shared_store: Store, store: Store
) -> None:
    assert isinstance(ledger_for(shared_store), SharedLedger)
    assert type(ledger_for(store)) is JobLedger


def test_two_runners_share_one_job_and_send_every_page_once(
    database_url: str, shared_store: Store, server: LocalServer
) -> None:
    jobs = JobStore(shared_store)
    job_id = submit(jobs, *((f"doc{n}.pdf", make_pdf(2)) for n in range(16)))
    before = completions(server.base_url)
    runners = [_runner(database_url, server.base_url, name) for name in ("a", "b")]
    try:
        assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=120)
    finally:
        for runner in runners:
            runner.stop()
            runner.jobs.store.close()
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 32, 0)
    pages = jobs.pages(job_id, with_text=False)
    assert len({(page.document_id, page.index) for page in pages}) == 32
    assert [page.result.attempts for page in pages] == [1] * 32
    by_runner = Counter(page.revision for page in pages)
    assert set(by_runner) == {"a", "b"}  # both did work
    assert completions(server.base_url) - before == 32  # each page sent once


def test_a_job_ends_only_when_its_last_document_is_let_go(shared_store: Store) -> None:
    jobs = JobStore(shared_store)
    job_id = submit(jobs, ("one.pdf", make_pdf(2)), ("two.pdf", make_pdf(2)))
    first, second = SharedLedger(shared_store), SharedLedger(shared_store)
    assert first.claim(job_id, "a", None) and second.claim(job_id, "b", None)
    [mine] = first.take_documents(job_id, "a", 1)
    [theirs] = second.take_documents(job_id, "b", 1)
    assert mine != theirs
    assert first.take_documents(job_id, "a", 1) == []  # nothing left that no one holds
    _read(first, job_id, mine, 2)
    first.release(job_id, "a", JobStatus.DONE)
    assert jobs.job(job_id).status is JobStatus.RUNNING  # "b" still reads
    _read(second, job_id, theirs, 2)
    second.release(job_id, "b", JobStatus.DONE)
    job = jobs.job(job_id)
    assert (job.status, job.pages_done) == (JobStatus.DONE, 4)


def test_a_runner_that_stops_after_the_last_page_ends_the_job_not_requeues_it(
    shared_store: Store,
) -> None:
    """Queued with nothing left to read, no runner would ever claim the job again."""
    jobs = JobStore(shared_store)
    job_id = submit(jobs, ("one.pdf", make_pdf(2)))
    ledger = SharedLedger(shared_store)
    assert ledger.claim(job_id, "a", None)
    [document] = ledger.take_documents(job_id, "a", 1)
    _read(ledger, job_id, document, 2)
    ledger.release(job_id, "a", JobStatus.QUEUED)
    job = jobs.job(job_id)
    assert (job.status, job.pages_done) == (JobStatus.DONE, 2)


def test_a_document_let_go_meanwhile_is_not_lost_to_another_runner(shared_store: Store) -> None:
    """`held` reads the holders after its runner let go of one: no holder is not theft."""
    jobs = JobStore(shared_store)
    job_id = submit(jobs, ("one.pdf", make_pdf(2)), ("two.pdf", make_pdf(2)))
    ledger, other = SharedLedger(shared_store), SharedLedger(shared_store)
    assert ledger.claim(job_id, "a", None)
    [mine] = ledger.take_documents(job_id, "a", 1)
    with shared_store.transaction() as connection:  # let go between the runner's snapshot
        connection.execute(documents_table.update().values(holder=None))  # and its read
    assert job_id in ledger.held("a")
    assert other.take_documents(job_id, "b", 1) == [mine]  # now it is taken from "a"
    assert job_id not in ledger.held("a")


def test_a_silent_holders_documents_are_taken_over_and_the_job_finishes(
    database_url: str, shared_store: Store, server: LocalServer
) -> None:
    jobs = JobStore(shared_store)
    job_id = submit(jobs, ("kept.pdf", make_pdf(2)), ("lost.pdf", make_pdf(3)))
    ghost = SharedLedger(shared_store)
    assert ghost.claim(job_id, "ghost", None)
    [kept, _] = [entry.id for entry in jobs.documents(job_id)]
    assert ghost.take_documents(job_id, "ghost", 2) == [kept, _]
    _read(ghost, job_id, kept, 2)  # the ghost read one document, then died mid-way
    d = documents_table
    with shared_store.transaction() as connection:
        connection.execute(d.update().values(held_at=d.c.held_at - (STALE_AFTER_S + 5)))
    before = completions(server.base_url)
    runner = _runner(database_url, server.base_url, "heir")
    try:
        assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=60)
    finally:
        runner.stop()
        runner.jobs.store.close()
    job = jobs.job(job_id)
    assert (job.status, job.pages_done) == (JobStatus.DONE, 5)
    assert completions(server.base_url) - before == 3  # only the lost document's pages


def test_cancel_stops_every_runner_of_a_shared_job(
    database_url: str, shared_store: Store, server: LocalServer
) -> None:
    jobs = JobStore(shared_store)
    job_id = submit(jobs, *((f"doc{n}.pdf", make_pdf(10)) for n in range(12)))
    runners = [_runner(database_url, server.base_url, name) for name in ("a", "b")]
    try:
        assert wait_until(lambda: all(runner.running() == [job_id] for runner in runners))
        jobs.request_cancel(job_id)
        assert wait_until(lambda: not any(runner.running() for runner in runners))
        # A runner lets go of its run before it writes the job's end to the store.
        assert wait_until(lambda: jobs.job(job_id).status is JobStatus.CANCELLED)
        assert wait_until(lambda: in_flight(server.base_url) == 0)
        assert jobs.job(job_id).pages_done < 120 / 2
    finally:
        for runner in runners:
            runner.stop()
            runner.jobs.store.close()
