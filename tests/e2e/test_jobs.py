"""OCR jobs in a real browser: a long PDF keeps its progress through navigation, reload, a
second tab and a killed console; Cancel frees the server's slots.

Its own console on the simulated engine (0.5 s a page, 8 slots), so a long job takes long
enough to leave, come back, kill and restart in the middle of it.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, Page, expect

from console._store import Store
from console.jobs import JobStatus, JobStore
from tests.console.jobs.conftest import in_flight, wait_until
from tests.e2e.conftest import (
    ROOT,
    _free_port,
    assert_page_clean,
    full_page_screenshot,
    go_to,
    open_console,
    streamlit_command,
    wait_healthy,
    wait_idle,
)

pytestmark = pytest.mark.e2e

PAGES = 150
PROGRESS = re.compile(r"(\d+) / (\d+) pages")


@dataclass
class JobsConsole:
    url: str
    service_url: str
    data_dir: Path
    port: int
    service_port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "LIGHTONOCR_DATA_DIR": str(self.data_dir),
            "LIGHTONOCR_LOCAL_PORT": str(self.service_port),
            "LIGHTONOCR_LOCAL_ENGINE": "simulated",
            "LIGHTONOCR_ACTOR": "qa-e2e",
        }
        env.pop("LIGHTONOCR_SERVICE_URL", None)
        log_path = self.data_dir / "streamlit.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                streamlit_command(self.port, "--server.address", "127.0.0.1"),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(self.url, self.process, log_path)

    def kill(self) -> None:
        """SIGKILL the console (the supervisor, its worker and its UI) but not the OCR server
        the worker started: a crash, no goodbye, and nothing released."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            with suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGKILL)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        assert wait_until(lambda: not _listening(self.port), timeout_s=30)

    def log(self) -> str:
        return (self.data_dir / "streamlit.log").read_text(errors="replace")

    def jobs(self) -> JobStore:
        return JobStore(Store.in_dir(self.data_dir))


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def jobs_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobsConsole]:
    port, service_port = _free_port(), _free_port()
    console = JobsConsole(
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{service_port}",
        tmp_path_factory.mktemp("jobs-console"),
        port,
        service_port,
    )
    console.start()
    try:
        yield console
    finally:
        if console.process is not None and console.process.poll() is None:
            console.process.terminate()
            console.process.wait(timeout=15)
        # The OCR server the console started outlives it by design: stop it by its pid.
        record = Store.in_dir(console.data_dir).get_setting("local.server")
        if record:
            with_pid = int(record["pid"])
            with suppress(ProcessLookupError):
                os.kill(with_pid, signal.SIGTERM)
    assert "Traceback" not in console.log(), console.log()[-3000:]


@pytest.fixture(scope="module")
def long_pdf(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 150-page PDF: pdflatex-4-pages.pdf's pages over and over."""
    source = pdfium.PdfDocument(corpus / "pdf" / "pdflatex-4-pages.pdf")
    document = pdfium.PdfDocument.new()
    for n in range(PAGES):
        document.import_pages(source, [n % len(source)])
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path_factory.mktemp("long") / "long-report.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def _start_job(page: Page, path: Path, jobs: JobStore) -> int:
    """Upload and start; returns the new job's id once the page shows that job."""
    known = {job.id for job in jobs.jobs()}
    # The first uploader is the new job's (an open job has one per document for references).
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(path)
    wait_idle(page)
    # These jobs test how a job lives, not its words: 150 pages would spend minutes locating.
    words = page.get_by_test_id("stCheckbox").filter(has_text="Locate words on the page")
    if words.locator("input").is_checked():
        words.locator("label").click()
        wait_idle(page)
    expect(words.locator("input")).not_to_be_checked()
    page.get_by_role("button", name="Start OCR job").click()
    assert wait_until(lambda: {job.id for job in jobs.jobs()} - known != set())
    (job_id,) = {job.id for job in jobs.jobs()} - known
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Open job")
    expect(chooser).to_match_aria_snapshot(
        f'- combobox "Open job": /#{job_id} · .*/', timeout=60_000
    )
    wait_idle(page)
    return job_id


def _progress(page: Page) -> tuple[int, int]:
    """(pages done, pages total) as the page's progress bar says."""
    bar = page.get_by_test_id("stProgress").first
    expect(bar).to_contain_text(PROGRESS, timeout=60_000)
    found = PROGRESS.search(bar.inner_text())
    assert found is not None
    return int(found.group(1)), int(found.group(2))


def _wait_progress(page: Page, at_least: int, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, _ = _progress(page)
        if done >= at_least:
            return done
        page.wait_for_timeout(250)
    raise AssertionError(f"progress stayed below {at_least}")


@contextmanager
def _tab(browser: Browser, url: str) -> Iterator[Page]:
    with open_console(browser, url) as page:
        yield page


def test_a_long_job_keeps_its_progress_through_navigation_reload_and_a_second_tab(
    browser: Browser, jobs_console: JobsConsole, long_pdf: Path, screenshots: Path
) -> None:
    with _tab(browser, jobs_console.url) as page:
        job_id = _start_job(page, long_pdf, jobs_console.jobs())
        done = _wait_progress(page, 5)
        full_page_screenshot(page, screenshots / "jobs-running.png")

        go_to(page, "Logs")
        # Away from the job's page while the job goes on (the store says so), then back.
        store = jobs_console.jobs()
        assert wait_until(lambda: getattr(store.job(job_id), "pages_done", 0) > done)
        go_to(page, "OCR workbench")
        after_visit, total = _progress(page)
        assert total == PAGES and after_visit >= done, "progress went back after navigating"

        page.reload()
        wait_idle(page)
        after_reload, _ = _progress(page)
        assert after_reload >= after_visit, "progress went back after a reload"
        # The job is still there after the reload: running (its Cancel button) or, on a
        # loaded machine where the browser is slow and the job is not, already finished.
        finished = page.get_by_text(f"{PAGES} pages · {PAGES} read · 0 failed")
        cancel = page.get_by_role("button", name="Cancel job")
        expect(cancel.or_(finished).first).to_be_visible(timeout=30_000)

        with _tab(browser, jobs_console.url) as second:
            in_second, _ = _progress(second)
            assert in_second >= after_reload, "a second tab restarted or lost the job"
        expect(page.get_by_text(f"{PAGES} pages · {PAGES} read · 0 failed")).to_be_visible(
            timeout=300_000
        )
        wait_idle(page)
        assert_page_clean(page)
    job = jobs_console.jobs().job(job_id)
    assert job is not None
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, PAGES, 0)
    pages = jobs_console.jobs().pages(job_id)
    assert sorted(p.index for p in pages) == list(range(PAGES)), "a page was lost or doubled"


def test_a_console_killed_mid_job_finishes_the_job_after_restart(
    browser: Browser, jobs_console: JobsConsole, long_pdf: Path
) -> None:
    with _tab(browser, jobs_console.url) as page:
        job_id = _start_job(page, long_pdf, jobs_console.jobs())
        _wait_progress(page, 10)
    jobs_console.kill()
    before = {p.index: p.finished_at for p in jobs_console.jobs().pages(job_id)}
    assert 10 <= len(before) < PAGES

    jobs_console.start()
    with _tab(browser, jobs_console.url) as page:
        expect(page.get_by_text(f"{PAGES} pages · {PAGES} read · 0 failed")).to_be_visible(
            timeout=300_000
        )
    pages = jobs_console.jobs().pages(job_id)
    assert sorted(p.index for p in pages) == list(range(PAGES)), "a page was lost or doubled"
    assert all(p.finished_at == before[p.index] for p in pages if p.index in before)


def test_cancel_closes_the_requests_in_flight(
    browser: Browser, jobs_console: JobsConsole, long_pdf: Path, screenshots: Path
) -> None:
    with _tab(browser, jobs_console.url) as page:
        job_id = _start_job(page, long_pdf, jobs_console.jobs())
        _wait_progress(page, 5)
        page.get_by_role("button", name="Cancel job").click()
        # Nothing left in flight; that it was the cancel (not the job ending) is the job's
        # status and page count below, so the wait needs no tight deadline.
        assert wait_until(lambda: in_flight(jobs_console.service_url) == 0)
        expect(page.get_by_role("button", name="Resume job")).to_be_visible(timeout=30_000)
        wait_idle(page)
        full_page_screenshot(page, screenshots / "jobs-cancelled.png")
    job = jobs_console.jobs().job(job_id)
    assert job is not None
    assert job.status is JobStatus.CANCELLED and 5 <= job.pages_done < PAGES


def test_a_finished_job_reads_page_by_page_with_the_image_in_view(
    browser: Browser, jobs_console: JobsConsole, screenshots: Path
) -> None:
    finished = next(j for j in jobs_console.jobs().jobs() if j.status is JobStatus.DONE)
    with _tab(browser, f"{jobs_console.url}/?job={finished.id}") as page:
        expect(page.get_by_text(f"{PAGES} pages · {PAGES} read")).to_be_visible(timeout=30_000)
        page.get_by_label(f"Page (of {PAGES})").fill("3")
        page.get_by_label(f"Page (of {PAGES})").press("Enter")
        wait_idle(page)
        expect(page.get_by_text(f"Page 3 of {PAGES}")).to_be_visible(timeout=30_000)
        # The text scrolls in its own fixed-height box: however long, the image stays beside it.
        text_box = page.locator(".st-key-wb_page_text").bounding_box()
        image_box = page.get_by_test_id("stImage").locator("img").bounding_box()
        assert text_box is not None and image_box is not None
        assert abs(text_box["height"] - 720) < 8
        assert image_box["y"] < text_box["y"] + text_box["height"]
        full_page_screenshot(page, screenshots / "jobs-finished-page.png")
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_be_visible(timeout=30_000)
        page.screenshot(path=str(screenshots / "jobs-list.png"))
        assert_page_clean(page)
