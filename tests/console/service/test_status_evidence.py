"""'Ready' means recent pages succeeded: a health check that answers while the pages fail is
a degraded service, said with the count and the kind of failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.jobs import DocumentState, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from console.platforms import ServiceState
from console.service import Operations
from ocr_core import CorruptDocument, PageResult, RequestTimeout
from tests.console.local_platform import local_platforms
from tests.waits import wait_until


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with local_platforms(tmp_path) as make:
        platform = make(default_floor=1)
        assert wait_until(lambda: platform.status().state is ServiceState.READY, timeout_s=60)
        yield Operations(platform, platform.store, actor="ana")


def _pages(operations: Operations, *results: PageResult) -> None:
    """Pages the console sent to this service, finished in this order."""
    jobs = JobStore(operations.store)
    job_id = jobs.create_job(
        [NewDocument("a.pdf", b"%PDF")], actor="ana", service_url=operations.platform.service_url
    )
    (document,) = jobs.documents(job_id)
    ledger = JobLedger(operations.store)
    ledger.set_document(document.id, DocumentState.OPENED, len(results))
    for result in results:
        ledger.save_page(job_id, document.id, result, request_id=None, revision=None, started_at=0)


def _timeout(index: int) -> PageResult:
    return PageResult(index=index, error=RequestTimeout("no answer in 120 s"))


def test_a_service_whose_recent_pages_time_out_is_degraded_not_ready(
    operations: Operations,
) -> None:
    _pages(operations, *(_timeout(i) for i in range(3)))
    status = operations.status()
    assert status.state is ServiceState.DEGRADED
    assert status.detail.startswith("3 of the last 3 pages the console sent failed")
    assert "RequestTimeout 3" in status.detail


def test_a_service_whose_latest_page_succeeded_after_a_few_failures_is_ready(
    operations: Operations,
) -> None:
    _pages(operations, _timeout(0), *(PageResult(index=i, text="ok") for i in range(1, 5)))
    assert operations.status().state is ServiceState.READY


def test_bad_input_is_not_evidence_against_the_service(operations: Operations) -> None:
    _pages(operations, PageResult(index=0, error=CorruptDocument("damaged page")))
    assert operations.status().state is ServiceState.READY


def test_a_service_with_no_recent_pages_is_judged_by_its_health_alone(
    operations: Operations,
) -> None:
    assert operations.status().state is ServiceState.READY
