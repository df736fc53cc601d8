"""A golden run is a job on a real server; its scores are stored with the revision that
served the pages, and a run on an engine that reads worse flags the document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.golden import (
    GoldenDocument,
    GoldenStore,
    finish_run,
    load_folder,
    score_job,
    start_run,
    wait_for_run,
)
from console.jobs import DocumentState, JobRunner, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from ocr_core import ClientSettings, OCRClient, PageResult, ServiceUnavailable
from tests.console.golden.conftest import phototest_set
from tests.fakes.fault_server import FaultServer
from tests.fakes.local_server import LocalServer


@pytest.fixture
def simulated(simulated_server: LocalServer) -> LocalServer:
    return simulated_server  # the session's simulated server (tests/conftest.py)


@pytest.fixture
def runner(store: Store, simulated: LocalServer) -> Iterator[JobRunner]:
    settings = ClientSettings(base_url=simulated.base_url, auth="none", max_attempts=1)
    runner = JobRunner(
        store, lambda: OCRClient(settings=settings), revision=lambda: "sim-1", poll_s=0.1
    ).start()
    yield runner
    runner.stop()


@pytest.fixture
def registered(golden: GoldenStore, tmp_path: Path) -> str:
    loaded = load_folder(phototest_set(tmp_path / "set"))
    golden.register("photo", loaded.documents, actor="qa", source="test")
    return "photo"


def test_a_run_stores_per_document_scores_with_the_revision(
    golden: GoldenStore, jobs: JobStore, runner: JobRunner, simulated: LocalServer, registered: str
) -> None:
    run_id = start_run(
        golden, jobs, registered, service_url=simulated.base_url, revision=None, actor="qa"
    )
    runner.wake()
    run = wait_for_run(golden, jobs, run_id, timeout_s=60, poll_s=0.1)
    (score,) = run.scores
    assert score.filename == "phototest.tif" and score.pages == 1 and score.pages_failed == 0
    assert score.cer is not None and 0.5 < score.cer <= 1.0  # stand-in text, not the page's
    assert run.revision == "sim-1" and run.finished_at is not None
    assert not run.regressions
    assert [r.id for r in golden.runs(registered)] == [run_id]


def test_a_run_is_not_scored_before_its_job_ends(
    golden: GoldenStore, jobs: JobStore, registered: str
) -> None:
    run_id = start_run(golden, jobs, registered, service_url="", revision=None, actor="qa")
    assert not finish_run(golden, jobs, run_id).scored  # no runner: the job is still queued
    assert golden.run(run_id).scores == []  # type: ignore[union-attr]


def test_an_engine_that_reads_worse_is_flagged_as_a_regression(
    golden: GoldenStore, jobs: JobStore, runner: JobRunner, simulated: LocalServer, registered: str
) -> None:
    first = start_run(
        golden, jobs, registered, service_url=simulated.base_url, revision=None, actor="qa"
    )
    runner.wake()
    before = wait_for_run(golden, jobs, first, timeout_s=60, poll_s=0.1)
    with FaultServer() as fault:  # answers "page #ffffff": further from the truth
        second = start_run(
            golden, jobs, registered, service_url=fault.base_url, revision="b", actor="qa"
        )
        runner.wake()
        after = wait_for_run(golden, jobs, second, timeout_s=60, poll_s=0.1)
        assert len(fault.chat_requests()) == 1  # the job went to its own endpoint
    (score,) = after.regressions
    assert score.filename == "phototest.tif"
    assert score.previous_cer == before.scores[0].cer
    assert score.cer is not None and score.cer > score.previous_cer + 0.02  # type: ignore[operator]
    assert after.revision == "b"


def test_a_margin_outside_zero_to_one_is_refused(
    golden: GoldenStore, jobs: JobStore, registered: str
) -> None:
    from console.golden import GoldenSetError

    with pytest.raises(GoldenSetError, match="between 0 and 1"):
        start_run(golden, jobs, registered, service_url="", revision=None, actor="qa", margin=2)


def test_a_page_that_was_not_read_is_left_out_of_the_score_not_scored_as_empty(
    store: Store,
) -> None:
    """Two pages with their own expected texts; page 2 fails: the score is page 1's alone,
    and the document says which page was not read and why."""
    jobs = JobStore(store)
    document = GoldenDocument("two.pdf", b"%PDF", "first page\fsecond page", "two.txt")
    job_id = jobs.create_job([NewDocument("two.pdf", b"%PDF")], actor="qa", service_url="x")
    (entry,) = jobs.documents(job_id)
    ledger = JobLedger(jobs.store)
    ledger.set_document(entry.id, DocumentState.OPENED, 2)
    ledger.save_page(
        job_id,
        entry.id,
        PageResult(index=0, text="first page"),
        request_id=None,
        revision=None,
        started_at=0,
    )
    failed = PageResult(index=1, error=ServiceUnavailable("the service did not answer"))
    ledger.save_page(job_id, entry.id, failed, request_id=None, revision=None, started_at=0)
    (score,) = score_job(jobs, job_id, [document])
    assert score.cer == 0.0 and score.pages_failed == 1
    assert score.error is not None and "page 2: the service did not answer" in score.error
