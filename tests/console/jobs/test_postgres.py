"""The same store on a real PostgreSQL: what a team deployment points the console at.

The server is Debian's PostgreSQL, started by the test in a temporary directory on loopback
(`tests/fakes/postgres.py`); every test gets a database of its own.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import httpx
import pytest

from console._store import AuditRecord, Store, StoreError, WarmUpRecord
from console.jobs import JobRunner, JobStatus, JobStore
from console.jobs._ledger import STALE_AFTER_S, JobLedger
from console.jobs._tables import documents_table, jobs_table
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer
from tests.fakes.postgres import PostgresServer

_names = itertools.count()


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    return postgres.create_database(f"console_{next(_names)}")


def completions(base_url: str) -> float:
    """Chat completions the server has answered (vLLM's request_success_total)."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vllm:request_success_total")
    )


def test_the_console_store_keeps_settings_audit_and_warm_ups(database_url: str) -> None:
    store = Store(url=database_url)
    now = datetime.now(UTC)
    store.set_setting("local.floor", {"floor": 1})
    store.add_audit(AuditRecord(now, "ana@bank.example", "cloudrun", "scale", "svc", True, "1"))
    store.add_warm_up(WarmUpRecord(now, "cloudrun", True, 84.2, 12, None, cold=True))
    store.close()

    reopened = Store(url=database_url)  # another console on the same database
    assert reopened.get_setting("local.floor") == {"floor": 1}
    assert [a.actor for a in reopened.audit()] == ["ana@bank.example"]
    [warm_up] = reopened.warm_ups(platform="cloudrun")
    assert (warm_up.cold, warm_up.seconds) == (True, 84.2)
    reopened.close()


def test_two_consoles_on_one_database_run_every_page_exactly_once(
    database_url: str, server: LocalServer
) -> None:
    first_console, second_console = Store(url=database_url), Store(url=database_url)
    jobs = JobStore(first_console)
    ids = [submit(jobs, (f"doc{n}.pdf", make_pdf(6))) for n in range(4)]
    before = completions(server.base_url)
    settings = ClientSettings(base_url=server.base_url, concurrency=4, auth="none")
    runners = [
        JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
        for store in (first_console, second_console)
    ]
    try:
        assert wait_until(lambda: all(not jobs.job(i).active for i in ids), timeout_s=120)
    finally:
        for runner in runners:
            runner.stop()
    seen_by_second = JobStore(second_console)
    for job_id in ids:
        job = seen_by_second.job(job_id)
        assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 6, 0)
        pages = seen_by_second.pages(job_id)
        keys = [(page.document_id, page.index) for page in pages]
        assert len(keys) == len(set(keys)) == 6
        assert [page.result.attempts for page in pages] == [1] * 6  # each page asked once
    # Each page was sent once: 24 pages, 24 answers at the server.
    assert completions(server.base_url) - before == 24
    first_console.close()
    second_console.close()


def test_the_console_store_is_chosen_by_lightonocr_database_url(database_url: str) -> None:
    store = Store.from_env({"LIGHTONOCR_DATABASE_URL": database_url})
    assert store.where.startswith("postgresql+psycopg://ocr@127.0.0.1:")
    store.set_setting("probe", 1)
    assert Store(url=database_url).get_setting("probe") == 1


def test_consoles_claiming_one_job_at_the_same_moment_give_it_to_one(database_url: str) -> None:
    consoles = [Store(url=database_url) for _ in range(6)]
    job_id = submit(JobStore(consoles[0]), ("doc.pdf", make_pdf(1)))
    start = threading.Barrier(len(consoles))
    won: list[str] = []

    def claim(n: int, store: Store) -> None:
        start.wait()
        if JobLedger(store).claim(job_id, f"runner-{n}", None):
            won.append(f"runner-{n}")

    threads = [threading.Thread(target=claim, args=item) for item in enumerate(consoles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1
    assert JobStore(consoles[0]).job(job_id).status is JobStatus.RUNNING
    for store in consoles:
        store.close()


def test_a_silent_runner_that_speaks_again_before_the_claim_keeps_its_job(
    database_url: str,
) -> None:
    first, second = Store(url=database_url), Store(url=database_url)
    job_id = submit(JobStore(first), ("doc.pdf", make_pdf(1)))
    owner, thief = JobLedger(first), JobLedger(second)
    assert owner.claim(job_id, "runner-a", None)
    silent_since = jobs_table.c.heartbeat_at - (STALE_AFTER_S + 5)
    with first.transaction() as connection:  # runner-a stalls (a long pause, a slow disk)
        connection.execute(jobs_table.update().values(heartbeat_at=silent_since))
    assert thief.claimable("runner-b") == [(job_id, "runner-a")]
    owner.heartbeat("runner-a")  # ... and speaks again before runner-b's claim lands
    assert not thief.claim(job_id, "runner-b", "runner-a")
    assert owner.held("runner-a") == {job_id}
    first.close()
    second.close()


def test_a_runner_whose_document_was_taken_stops_sending_its_pages(
    database_url: str, server: LocalServer
) -> None:
    """On PostgreSQL runners share jobs and hold documents (`_shared_ledger.py`): a silent
    runner loses its document, not the job, and must stop sending that document's pages."""
    store = Store(url=database_url)
    jobs = JobStore(store)
    job_id = submit(jobs, ("long.pdf", make_pdf(40)))
    settings = ClientSettings(base_url=server.base_url, concurrency=1, auth="none")
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    try:
        assert wait_until(lambda: (jobs.job(job_id).pages_done or 0) >= 1, timeout_s=60)
        with store.transaction() as connection:  # another console took it over
            connection.execute(documents_table.update().values(holder="another-console"))
        assert wait_until(lambda: runner.running() == [], timeout_s=10)
        done_when_stopped = jobs.job(job_id).pages_done
        sent = completions(server.base_url)
        assert not wait_until(lambda: completions(server.base_url) > sent + 1, timeout_s=2)
        assert jobs.job(job_id).pages_done <= done_when_stopped + 1
        assert done_when_stopped < 40
    finally:
        runner.stop()
        store.close()


def test_a_nul_in_a_file_name_is_kept_as_a_replacement_character(database_url: str) -> None:
    """PostgreSQL refuses NUL in text; the upload is kept, its name shows where the NUL was."""
    jobs = JobStore(Store(url=database_url))
    job_id = submit(jobs, ("scan\x00.pdf", make_pdf(1)))
    assert [d.filename for d in jobs.documents(job_id)] == ["scan\ufffd.pdf"]
    assert jobs.job(job_id).name == "scan\ufffd.pdf"


def test_a_value_the_database_refuses_is_a_store_error_without_the_statement(
    database_url: str,
) -> None:
    store = Store(url=database_url)
    with pytest.raises(StoreError) as refused:
        store.add_audit(AuditRecord(datetime.now(UTC), "a\x00b", "local", "scale", "svc", True, ""))
    assert "NUL" in str(refused.value)
    assert "INSERT" not in str(refused.value) and "UPDATE" not in str(refused.value)
