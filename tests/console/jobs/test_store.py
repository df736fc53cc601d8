"""The job tables: documents kept as uploaded, pages written once, store faults (retention:
test_retention.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from console._store import Store, StoreError
from console.jobs import DocumentState, JobStatus, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from ocr_core import PageResult, ServiceUnavailable
from tests.console.jobs.conftest import make_pdf, submit


def _ok(index: int, attempts: int = 1) -> PageResult:
    return PageResult(index=index, text=f"page {index}", attempts=attempts, latency_s=0.1)


def _failed(index: int) -> PageResult:
    return PageResult(index=index, error=ServiceUnavailable("gone", page_index=index), attempts=2)


def test_each_upload_is_its_own_document_even_when_names_repeat(jobs: JobStore) -> None:
    first, second = make_pdf(1), make_pdf(2)
    job_id = submit(jobs, ("scan.pdf", first), ("scan.pdf", second))
    documents = jobs.documents(job_id)
    assert [d.filename for d in documents] == ["scan.pdf", "scan.pdf"]
    assert documents[0].id != documents[1].id
    assert jobs.document_data(documents[0].id) == first
    assert jobs.document_data(documents[1].id) == second
    assert jobs.job(job_id).name == "scan.pdf + 1 more"


def test_jobs_are_listed_newest_first_with_their_page_counts(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    older = submit(jobs, ("a.pdf", make_pdf(1)))
    newer = submit(jobs, ("b.pdf", make_pdf(3)))
    (document,) = jobs.documents(newer)
    ledger.set_document(document.id, DocumentState.OPENED, 3)
    ledger.save_page(newer, document.id, _ok(0), request_id="r0", revision="pid 1", started_at=0)
    ledger.save_page(newer, document.id, _failed(2), request_id=None, revision=None, started_at=0)
    listed = jobs.jobs()
    assert [job.id for job in listed] == [newer, older]
    assert (listed[0].pages_total, listed[0].pages_done, listed[0].pages_failed) == (3, 1, 1)
    assert listed[0].status is JobStatus.QUEUED


def test_a_finished_page_is_written_once(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    (document,) = jobs.documents(job_id)
    assert ledger.save_page(
        job_id, document.id, _ok(0), request_id="a", revision=None, started_at=0
    )
    again = PageResult(index=0, text="other")
    assert not ledger.save_page(
        job_id, document.id, again, request_id="b", revision=None, started_at=0
    )
    (page,) = jobs.pages(job_id)
    assert (page.result.text, page.request_id) == ("page 0", "a")


def test_a_retried_page_replaces_its_failure_and_counts_every_attempt(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    (document,) = jobs.documents(job_id)
    ledger.save_page(job_id, document.id, _failed(0), request_id=None, revision=None, started_at=0)
    (failed,) = jobs.pages(job_id)
    assert isinstance(failed.result.error, ServiceUnavailable)
    assert str(failed.result.error) == "page 1: gone"

    assert jobs.retry_pages(job_id, [(document.id, 0)]) == 1
    assert ledger.pages_to_send(document.id, 1) == [0]
    ledger.save_page(job_id, document.id, _ok(0), request_id="r", revision=None, started_at=0)
    (page,) = jobs.pages(job_id)
    assert page.result.ok and page.result.attempts == 3 and not page.retry
    assert ledger.pages_to_send(document.id, 1) == []


def test_cancelling_a_job_no_runner_holds_cancels_it_at_once(jobs: JobStore) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    assert jobs.request_cancel(job_id) is JobStatus.CANCELLED
    jobs.resume(job_id)
    assert jobs.job(job_id).status is JobStatus.QUEUED


def test_cancelling_a_job_a_live_runner_holds_asks_that_runner(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    assert ledger.claim(job_id, "live-runner", None)
    assert jobs.request_cancel(job_id) is JobStatus.RUNNING
    assert ledger.heartbeat("live-runner") == [job_id]


def test_a_second_runner_cannot_claim_a_job_the_first_holds(store: Store) -> None:
    jobs, ledger = JobStore(store), JobLedger(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    assert ledger.claimable("first") == [(job_id, None)]
    assert ledger.claim(job_id, "first", None)
    assert not ledger.claim(job_id, "second", None)
    assert ledger.claimable("second") == []


def test_a_full_store_says_so_instead_of_losing_the_page(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    jobs, ledger = JobStore(store), JobLedger(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    (document,) = jobs.documents(job_id)

    @sa.event.listens_for(store.engine, "connect")
    def cap(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # type: ignore[attr-defined]

    store.engine.dispose()  # new connections get the cap: the file is now "full"
    huge = PageResult(index=0, text="x" * 2_000_000)
    with pytest.raises(StoreError, match=r"cannot write to the console's store at .*full"):
        ledger.save_page(job_id, document.id, huge, request_id=None, revision=None, started_at=0)
    assert jobs.pages(job_id) == []


def test_references_are_kept_per_page_replaced_and_pruned_with_their_job(store: Store) -> None:
    from console.jobs import WHOLE_DOCUMENT, ReferenceStore

    jobs = JobStore(store)
    job_id = jobs.create_job([NewDocument("a.pdf", b"%PDF")], actor="qa", service_url="x")
    [document] = jobs.documents(job_id)
    references = ReferenceStore(store)
    references.attach(job_id, document.id, ["one", "two"], origin="a.txt")
    references.attach(job_id, document.id, ["whole"], origin="a.md", note="not UTF-8")
    references.set_page(job_id, document.id, 1, "pasted two", "pasted by qa")
    kept = [(r.page_index, r.text, r.origin) for r in references.of_job(job_id)]
    assert kept == [(WHOLE_DOCUMENT, "whole", "a.md"), (1, "pasted two", "pasted by qa")]
    assert references.remove_page(document.id, 1) == 1
    jobs.request_cancel(job_id)
    jobs.set_retention_days(1)
    assert jobs.prune(datetime.now(UTC) + timedelta(days=2)) == 1
    assert references.of_job(job_id) == []
