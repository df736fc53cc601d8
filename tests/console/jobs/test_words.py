"""Words located on a job's pages by the worker: kept per page, lost with a page's old text,
and a page that cannot be located keeps its text and says why."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from console._store import Store
from console.jobs import JobRunner, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from console.jobs._locating import PageLocator
from console.jobs._models import JobStatus
from console.jobs._words import WordsStore
from console.ui._workbench import progress
from ocr_core import PageResult, engine_available, load_document
from ocr_core._sandbox import SandboxLimits
from tests.console.jobs.conftest import wait_until
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import tiff_pages

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "pdf"
DIGITAL = CORPUS / "minimal-document.pdf"
FOUR_PAGES = CORPUS / "pdflatex-4-pages.pdf"
pytestmark = [
    pytest.mark.skipif(not DIGITAL.exists(), reason="corpus"),
    pytest.mark.skipif(not engine_available(), reason="the local extra"),
]


def _job(jobs: JobStore, *, locate_words: bool) -> int:
    # The PDF's own text layer is the page's text: real words, no OCR model needed.
    return jobs.create_job(
        [NewDocument(DIGITAL.name, DIGITAL.read_bytes())],
        actor="qa",
        service_url="",
        use_text_layer=True,
        locate_words=locate_words,
    )


def test_a_job_that_asks_gets_each_read_pages_words_on_its_image(
    jobs: JobStore, runners: Callable[..., JobRunner], server: object
) -> None:
    job_id = _job(jobs, locate_words=True)
    runners(server.base_url)  # type: ignore[attr-defined]
    assert wait_until(lambda: jobs.job(job_id).words_ready, timeout_s=120)
    stored = WordsStore(jobs.store).job(job_id)
    (page,) = stored.values()
    assert page.error is None and page.words is not None
    assert page.words.located_share >= 0.95
    assert all(0 <= w.box[0] < w.box[2] <= page.words.width for w in page.words.words if w.box)
    job = jobs.job(job_id)
    assert (job.pages_located, job.pages_unlocated) == (1, 0)
    assert "words located on 1 of 1 pages" in progress(job)[1]


def test_a_job_is_done_when_its_text_is_and_its_words_follow(
    jobs: JobStore, runners: Callable[..., JobRunner], server: object
) -> None:
    job_id = jobs.create_job(
        [NewDocument(FOUR_PAGES.name, FOUR_PAGES.read_bytes())],
        actor="qa",
        service_url="",
        use_text_layer=True,
        locate_words=True,
    )
    runners(server.base_url)  # type: ignore[attr-defined]
    assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=120)
    words = WordsStore(jobs.store)
    located_when_done = len(words.job(job_id))
    done = jobs.job(job_id)
    assert (done.status, done.pages_done) == (JobStatus.DONE, 4)
    # Four pages to locate take seconds of the engine: the text did not wait for them.
    assert located_when_done < 4
    assert not done.words_ready
    assert done.words_progress == f"locating words, {located_when_done} of 4 pages"
    assert "locating words" in progress(done)[1]
    assert wait_until(lambda: jobs.job(job_id).words_ready, timeout_s=240)
    stored = words.job(job_id)
    assert len(stored) == 4 and all(w.words is not None for w in stored.values())
    assert "words located on 4 of 4 pages" in progress(jobs.job(job_id))[1]


def test_a_page_without_text_is_located_at_once_with_no_words(jobs: JobStore, store: Store) -> None:
    job_id = _job(jobs, locate_words=True)
    (document,) = jobs.documents(job_id)
    page = PageResult(index=0, text=" \n", latency_s=0.1, attempts=1)
    JobLedger(store).save_page(
        job_id, document.id, page, request_id=None, revision=None, started_at=0.0
    )
    words = WordsStore(store)

    async def in_store(call: Callable[..., object], *args: object) -> object:
        return call(*args)

    locator = PageLocator(words, in_store)
    with load_document(DIGITAL.read_bytes(), filename=DIGITAL.name) as opened:
        assert asyncio.run(locator.locate(job_id, [(document.id, opened)])) == 1
    locator.close()
    stored = words.page(document.id, 0)
    assert stored is not None and stored.error is None
    assert stored.words is not None and stored.words.words == ()
    assert jobs.job(job_id).words_pending == 0


def test_a_pages_words_are_located_while_the_jobs_other_pages_are_still_read(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    with FaultServer() as server:
        server.script("stall")  # the scan's request is answered with one chunk, then nothing
        job_id = jobs.create_job(
            [
                NewDocument(DIGITAL.name, DIGITAL.read_bytes()),
                NewDocument("scan.tif", tiff_pages(["#ffffff"])),
            ],
            actor="qa",
            service_url="",
            use_text_layer=True,
            locate_words=True,
        )
        runners(server.base_url)
        digital, scan = jobs.documents(job_id)
        words = WordsStore(jobs.store)
        assert wait_until(lambda: words.page(digital.id, 0) is not None, timeout_s=120)
        assert jobs.pages(job_id, scan.id) == []  # still being read
        jobs.request_cancel(job_id)
        assert wait_until(lambda: not jobs.job(job_id).active)


def test_a_job_that_does_not_ask_locates_nothing(
    jobs: JobStore, runners: Callable[..., JobRunner], server: object
) -> None:
    job_id = _job(jobs, locate_words=False)
    runners(server.base_url)  # type: ignore[attr-defined]
    assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=120)
    assert jobs.job(job_id).pages_done == 1
    assert WordsStore(jobs.store).job(job_id) == {}


def test_a_page_read_again_loses_the_words_of_its_old_text(jobs: JobStore, store: Store) -> None:
    job_id = _job(jobs, locate_words=True)
    (document,) = jobs.documents(job_id)
    ledger = JobLedger(store)
    page = PageResult(index=0, text="old text", latency_s=0.1, attempts=1)
    ledger.save_page(job_id, document.id, page, request_id=None, revision=None, started_at=0.0)
    words = WordsStore(store)
    words.save(job_id, document.id, 0, None, error="words not located: test")
    jobs.retry_pages(job_id, [(document.id, 0)])
    assert words.pages_to_locate(document.id) == []  # not while it waits to be read again
    ledger.save_page(job_id, document.id, page, request_id=None, revision=None, started_at=1.0)
    assert words.page(document.id, 0) is None
    assert words.pages_to_locate(document.id) == [(0, "old text")]


def test_a_page_past_the_locating_limits_keeps_its_text_and_says_why(
    jobs: JobStore, store: Store
) -> None:
    job_id = _job(jobs, locate_words=True)
    (document,) = jobs.documents(job_id)
    page = PageResult(index=0, text="Hello world", latency_s=0.1, attempts=1)
    JobLedger(store).save_page(
        job_id, document.id, page, request_id=None, revision=None, started_at=0.0
    )
    words = WordsStore(store)
    tight = SandboxLimits(memory_mb=2048, cpu_seconds=60.0, wall_seconds=0.01, workers=1)

    async def in_store(call: Callable[..., object], *args: object) -> object:
        return call(*args)

    locator = PageLocator(words, in_store, limits=tight)
    with load_document(DIGITAL.read_bytes(), filename=DIGITAL.name) as opened:
        try:
            assert asyncio.run(locator.locate(job_id, [(document.id, opened)])) == 1
        finally:
            locator.close()
    stored = words.page(document.id, 0)
    assert stored is not None and stored.words is None
    assert stored.error is not None and "words not located" in stored.error
    assert jobs.pages(job_id)[0].result.text == "Hello world"
