"""A golden set made of reviewed pages runs like any other, and a worse engine is flagged
on it: the gate a canary is judged by, now on real traffic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.golden import GoldenStore, start_run, wait_for_run
from console.jobs import JobRunner, JobStore
from console.review import ReviewStore
from console.review._golden import golden_documents, reviewed_pages, write_dataset
from ocr_core import ClientSettings, OCRClient
from tests.console.review.conftest import Seed, seed_job
from tests.fakes.fault_server import FaultServer
from tests.fakes.local_server import LocalServer


@pytest.fixture
def runner(store: Store, simulated_server: LocalServer) -> Iterator[JobRunner]:
    settings = ClientSettings(base_url=simulated_server.base_url, auth="none", max_attempts=1)
    runner = JobRunner(
        store, lambda: OCRClient(settings=settings), revision=lambda: "sim-1", poll_s=0.1
    ).start()
    yield runner
    runner.stop()


@pytest.fixture
def reviewed_set(store: Store) -> str:
    job = seed_job(store, Seed("page one text"), Seed("page two text"))
    review = ReviewStore(store)
    review.correct(review.page(job, 1), "page 1 text", "ana")
    review.approve(review.page(job, 2), "ana")
    documents = golden_documents(reviewed_pages(review, JobStore(store), [job]))
    GoldenStore(store).register("traffic", documents, actor="ana", source="reviewed pages")
    return "traffic"


def test_a_golden_set_of_reviewed_pages_runs_and_flags_a_worse_engine(
    store: Store, runner: JobRunner, simulated_server: LocalServer, reviewed_set: str
) -> None:
    golden, jobs = GoldenStore(store), JobStore(store)
    with FaultServer() as fault:  # answers "page #ffffff": short, so nearer the truths
        first = start_run(
            golden, jobs, reviewed_set, service_url=fault.base_url, revision="short", actor="qa"
        )
        runner.wake()
        before = wait_for_run(golden, jobs, first, timeout_s=60, poll_s=0.1)
    assert len(before.scores) == 2 and all(s.pages_failed == 0 for s in before.scores)
    assert not before.regressions
    # The simulated engine answers a long stand-in text: much further from each truth.
    second = start_run(
        golden,
        jobs,
        reviewed_set,
        service_url=simulated_server.base_url,
        revision="long",
        actor="qa",
    )
    runner.wake()
    after = wait_for_run(golden, jobs, second, timeout_s=60, poll_s=0.1)
    assert len(after.regressions) == 2, "the worse engine passed the gate of reviewed pages"


def test_the_data_set_export_writes_a_scan_and_a_text_per_reviewed_page(
    store: Store, reviewed_set: str, tmp_path: Path
) -> None:
    pages = reviewed_pages(ReviewStore(store), JobStore(store))
    assert write_dataset(pages, tmp_path / "out") == 2
    texts = sorted(p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.txt"))
    assert texts == ["page 1 text", "page two text"]
