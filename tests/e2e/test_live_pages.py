"""A job's pages in a real browser while it runs (issue 35, items 1 and 3): each page's text
shows once the page is read, not when the job ends, the counts say what the store says,
and a job with a corrupt document ends "done with failures".

Its own console with one request in flight (LIGHTONOCR_CONCURRENCY 1) reads with a
vLLM-shaped fault server on loopback, named in LIGHTONOCR_SERVICE_URL (an external local
server). The test lets the server answer page by page, so it sees a page unread, lets it be
read and watches its text arrive, however fast or slow this machine is.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, Page, expect

from console._store import Store
from console.jobs import JobStore
from tests.e2e.conftest import (
    Console,
    open_console,
    running_console,
    wait_idle,
)
from tests.fakes.fault_server import FaultServer
from tests.waits import wait_until

pytestmark = pytest.mark.e2e

PAGES = 20
# Pages whose text the test watches arrive (0-based): the first, and two the test opens.
WATCHED = (0, 6, 13)
ANSWER = re.compile(r"page #[0-9a-f]{6}")  # the fault server's text for a page
SUMMARY = re.compile(r"20 pages · (\d+) read · (\d+) failed")
PROGRESS = re.compile(r"(\d+) / 20 pages")
# The page's text and its first progress bar's, read together.
ONE_LOOK = """() => [
    document.body.innerText,
    document.querySelector('[data-testid="stProgress"]').innerText,
]"""


@pytest.fixture(scope="module")
def reader() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def live_console(
    tmp_path_factory: pytest.TempPathFactory, reader: FaultServer
) -> Iterator[Console]:
    settings = {
        "LIGHTONOCR_CONCURRENCY": "1",
        "LIGHTONOCR_ACTOR": "qa-e2e",
        "LIGHTONOCR_SERVICE_URL": reader.base_url,
    }
    with running_console(tmp_path_factory.mktemp("live"), settings=settings) as started:
        yield started


@pytest.fixture(scope="module")
def twenty_pages(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = pdfium.PdfDocument(corpus / "pdf" / "pdflatex-4-pages.pdf")
    document = pdfium.PdfDocument.new()
    for n in range(PAGES):
        document.import_pages(source, [n % len(source)])
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path_factory.mktemp("twenty") / "twenty-pages.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def _start(page: Page, *files: Path) -> None:
    """Upload and start a job with the words off (this is about the text)."""
    uploader = page.get_by_test_id("stFileUploader").first.locator("input[type='file']")
    uploader.set_input_files(list(files))
    wait_idle(page)
    words = page.get_by_test_id("stCheckbox").filter(has_text="Locate words on the page")
    if words.locator("input").is_checked():
        words.locator("label").click()
        wait_idle(page)
    page.get_by_role("button", name="Start OCR job").click()


def _read_until(reader: FaultServer, jobs: JobStore, job_id: str, index: int) -> int:
    """Let the server answer one page at a time until page `index` is stored; the pages read."""

    def read() -> set[int]:
        return {p.index for p in jobs.pages(job_id) if p.result.ok}

    while index not in read():
        allowed = (reader.faults.answer_limit or 0) + 1
        reader.faults.answer_limit = allowed
        assert wait_until(lambda: len(read()) >= allowed)  # noqa: B023 (waited on here)
    return len(read())


def test_each_page_shows_its_text_while_the_job_runs_and_the_counts_follow_the_store(
    browser: Browser,
    live_console: Console,
    reader: FaultServer,
    twenty_pages: Path,
    screenshots: Path,
) -> None:
    jobs = JobStore(Store.in_dir(live_console.data_dir))
    reader.faults.answer_limit = 0  # no page is read until the test lets it
    try:
        with open_console(browser, live_console.url) as page:
            page.set_viewport_size({"width": 1440, "height": 2000})  # the page panel in view
            _start(page, twenty_pages)
            assert wait_until(lambda: bool(jobs.jobs()))
            job_id = jobs.jobs()[0].id
            seen: dict[int, datetime] = {}
            number = page.get_by_label(f"Page (of {PAGES})")
            expect(number).to_be_visible(timeout=60_000)  # the document is open: its pages
            for index in WATCHED:
                if index:
                    number.fill(str(index + 1))
                    number.press("Enter")
                    expect(page.get_by_text(f"Page {index + 1} of {PAGES}").first).to_be_visible()
                text = page.locator(".st-key-wb_page_text")
                expect(text.first).to_contain_text("Not read yet")
                read = _read_until(reader, jobs, job_id, index)
                # (A redraw that moves a part of the page holds its old copy, dimmed, until it
                # ends: here and below, the first copy of what is looked for is enough.)
                expect(text.filter(has_text=ANSWER).first).to_be_visible(timeout=60_000)
                seen[index] = datetime.now(UTC)
                page.screenshot(path=str(screenshots / "workbench-mid-job.png"))
                # The counts follow the store (the server holds every other page), and the
                # document's counts and the progress bar are drawn from one read of it:
                # both are read in one look at the page, as a redraw between two reads would
                # set one moment's counts beside another's.
                counts = page.get_by_text(f"{PAGES} pages · {read} read · 0 failed")
                expect(counts.first).to_be_visible()
                wait_idle(page)
                body, bar = page.evaluate(ONE_LOOK)
                summary = int(SUMMARY.search(body).group(1))  # type: ignore[union-attr]
                done = int(PROGRESS.search(bar).group(1))  # type: ignore[union-attr]
                assert summary == done == read, (summary, done, read)
            reader.faults.answer_limit = None
            assert wait_until(lambda: not jobs.job(job_id).active)  # type: ignore[union-attr]
            finished = {p.index: p.finished_at for p in jobs.pages(job_id)}
            job = jobs.job(job_id)
            assert job is not None and job.finished_at is not None
            # Each watched page's text was on screen before the job ended.
            assert all(seen[i] < job.finished_at for i in WATCHED), (seen, job.finished_at)
            delays = {i + 1: round((seen[i] - finished[i]).total_seconds(), 2) for i in seen}
            (screenshots / "live-pages-delays.json").write_text(
                json.dumps({"page: seconds from read to shown": delays}, indent=1)
            )
            print("seconds from a page's read (store) to its text on screen:", delays)
            expect(page.get_by_text(f"{PAGES} pages · {PAGES} read · 0 failed")).to_be_visible(
                timeout=60_000
            )
    finally:
        reader.faults.answer_limit = None


def test_a_job_with_a_corrupt_document_ends_done_with_failures(
    browser: Browser, live_console: Console, corpus: Path, tmp_path: Path
) -> None:
    data = (corpus / "pdf" / "minimal-document.pdf").read_bytes()
    cut = tmp_path / "cut-short.pdf"
    cut.write_bytes(data[: len(data) // 2])
    good = tmp_path / "good.pdf"
    good.write_bytes(data)
    started = time.monotonic()
    with open_console(browser, live_console.url) as page:
        _start(page, good, cut)
        badge = page.get_by_test_id("stMarkdownContainer").get_by_text("done with failures")
        expect(badge.first).to_be_visible(timeout=120_000)
        expect(page.get_by_text("damaged or truncated").first).to_be_visible()
    print(f"corrupt job shown as done with failures after {time.monotonic() - started:.1f} s")
