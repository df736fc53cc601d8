"""Browser end-to-end harness: the real console under `streamlit run`, driven by Playwright
in Debian's headless Chromium, as Streamlit's own e2e suite does it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from console._store import Store
from console.jobs import Job, JobStatus, JobStore
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Markup that escaped rendering: a tag or an entity visible as text.
RAW_HTML = re.compile(r"</?(?:div|span|p|table|tr|td|script|img|br)\b[^>]*>|&(?:lt|gt|amp|quot);")
VIEWPORT = {"width": 1440, "height": 1000}
# Playwright's assertions wait 5 s by default: a rerun on a loaded 2-core machine (two test
# workers and the OCR engine beside the browser) can take longer. A limit, not a speed; the
# actions' own limit is set per page (`open_console`).
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_idle(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until the app is connected and the script is not running (after every interaction).

    The rerun an interaction triggers starts a moment after it (the message goes over the
    websocket first): without a short settle, "not running" can still be the state from
    before the rerun. Streamlit's own e2e helpers wait the same way.
    """
    page.wait_for_timeout(200)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout_ms
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )


@dataclass(frozen=True, slots=True)
class Console:
    """The console under test: its address, its OCR service's address, its data folder."""

    url: str
    service_url: str
    data_dir: Path


def job_ids(console: Console) -> set[int]:
    """The jobs in the console's store now. The session's console is shared by the tests, and
    the workbench opens on the newest job: a test notes these before it starts its own, so that
    it waits on its job (`finished_job`), not on a line another test's job drew."""
    store = Store.in_dir(console.data_dir)
    try:
        return {job.id for job in JobStore(store).jobs()}
    finally:
        store.close()


def finished_job(console: Console, known: set[int], timeout_s: float) -> Job:
    """The job started since `known` was noted, once it is done and its words (if it locates
    them) are all placed or said to be unplaceable."""
    store = Store.in_dir(console.data_dir)
    try:
        jobs = JobStore(store)

        def finished() -> Job | None:
            new = [job for job in jobs.jobs() if job.id not in known]
            job = new[0] if new else None
            ready = job is not None and job.status is JobStatus.DONE
            return job if ready and job.words_pending == 0 else None

        assert wait_until(lambda: finished() is not None, timeout_s=timeout_s, interval_s=0.2)
        job = finished()
        assert job is not None
        return job
    finally:
        store.close()


def streamlit_command(port: int, *args: str) -> list[str]:
    """`python -m console` (the worker, Streamlit and the local OCR server as one unit) as
    the tests start it: headless, no file watcher, Streamlit's options passed through."""
    return [
        sys.executable,
        *("-m", "console"),
        *("--server.headless", "true", "--server.fileWatcherType", "none"),
        *("--server.port", str(port)),
        *args,
    ]


def bare_command(port: int, *args: str) -> list[str]:
    """`streamlit run console/ui/app.py` alone: Streamlit's own defaults, no supervisor."""
    return [
        sys.executable,
        *("-m", "streamlit", "run", str(ROOT / "console" / "ui" / "app.py")),
        *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        *("--server.fileWatcherType", "none", "--server.port", str(port)),
        *args,
    ]


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until Streamlit answers its health check; fail with the log's tail if it never does."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit never became healthy:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


@contextmanager
def running_console(
    data_dir: Path,
    *,
    engine: str = "simulated",
    settings: dict[str, str] | None = None,
    args: tuple[str, ...] = ("--server.address", "127.0.0.1"),
    port: int = 0,
    cwd: Path = ROOT,
    bare_streamlit: bool = False,
) -> Iterator[Console]:
    """A console on loopback with its own local OCR server and `settings` in its environment
    (a LIGHTONOCR_SERVICE_URL there on loopback: that server instead, as an external one).

    `bare_streamlit`: only `streamlit run console/ui/app.py`, no worker, as somebody who
    bypasses `python -m console` would start it (the host guard's case).

    On the way out: it is stopped with the OCR server it started (its own process group),
    and its log holds no traceback (an error in a background thread or a callback never
    reaches the page) and no JWT (no assertion or ID token is ever logged).
    """
    port = port or _free_port()
    service_port = _free_port()
    env = {name: value for name, value in os.environ.items() if name != "LIGHTONOCR_SERVICE_URL"}
    env |= {
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_LOCAL_PORT": str(service_port),
        "LIGHTONOCR_LOCAL_ENGINE": engine,
        **(settings or {}),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            bare_command(port, *args) if bare_streamlit else streamlit_command(port, *args),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        service_url = env.get("LIGHTONOCR_SERVICE_URL", f"http://127.0.0.1:{service_port}")
        yield Console(url, service_url, data_dir)
    finally:
        with suppress(ProcessLookupError):  # it may have exited on its own
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    logged = log_path.read_text(errors="replace")
    assert "Traceback" not in logged, f"the console logged an error:\n{logged[-3000:]}"
    assert "eyJ" not in logged, "a JWT reached the console's log"


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console on the local platform with its own rapidocr server, for every page test."""
    with running_console(tmp_path_factory.mktemp("console-data"), engine="rapidocr") as started:
        yield started


@pytest.fixture(scope="session")
def console_url(console: Console) -> str:
    return console.url


class _Chromium:
    """Playwright and Debian's chromium, started for the first browser test and stopped after
    the last of a run of them (see `pytest_runtest_teardown`).

    Playwright's sync API keeps its event loop marked as running in the main thread for as
    long as it lives, and pytest-asyncio cannot run a test's loop beside it. Stopping it when
    the next test is not a browser test lets a pytest-xdist worker go on to asyncio tests
    after its browser tests, so the browser tests need not run last.
    """

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def browser(self) -> Browser:
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail("Debian's chromium is missing: `python3 dev.py test` installs it")
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        return self._browser

    def stop(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_CHROMIUM = _Chromium()


@pytest.fixture(scope="module")
def browser() -> Browser:
    """The shared headless chromium (started once for a run of browser tests). Per module, so
    that module fixtures (a page kept open across a module's tests) can use it: a module's
    tests run one after another, serially and under `--dist loadfile` alike."""
    return _CHROMIUM.browser()


@pytest.hookimpl(trylast=True)  # after the test's fixtures (its pages and contexts) are gone
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop Playwright when the next test on this worker is not a browser test."""
    if nextitem is None or "e2e" not in nextitem.path.parts:
        _CHROMIUM.stop()


@contextmanager
def open_console(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh browser context (so a fresh Streamlit session) on `url`, loaded and idle."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_idle(page)
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, console_url: str) -> Iterator[Page]:
    with open_console(browser, console_url) as page:
        yield page


def go_to(page: Page, title: str) -> None:
    """Open a page of the console through the sidebar navigation, as a user does."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.wait_for_selector(f"h1:has-text('{title}')")
    wait_idle(page)


def assert_page_clean(page: Page) -> None:
    """No traceback box (Streamlit's stException), no markup shown as text on the page, and
    no figure cut short ("13.…") by a column too narrow for it."""
    boxes = page.get_by_test_id("stException")
    assert boxes.count() == 0, boxes.first.inner_text()
    shown = page.get_by_test_id("stMain").inner_text()
    raw = RAW_HTML.search(shown)
    assert raw is None, f"raw HTML shown on the page: {shown[max(raw.start() - 80, 0) :][:200]!r}"
    cut = page.get_by_test_id("stMetricValue").evaluate_all(
        "values => values.flatMap(value => [value, ...value.querySelectorAll('*')])"
        ".filter(part => part.scrollWidth > part.clientWidth).map(part => part.innerText)"
    )
    assert cut == [], f"figures cut short: {cut}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def full_page_screenshot(page: Page, path: Path) -> Path:
    """A screenshot of the whole page, not just the viewport.

    Streamlit scrolls its main section, not the document, so Playwright's `full_page` sees
    only one screen; the viewport is stretched to the content's height for the shot instead.
    """
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stSidebarContent'].map(id => "
        "document.querySelector(`[data-testid='${id}']`)?.scrollHeight ?? 0))"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
    try:
        wait_idle(page)
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        page.set_viewport_size(VIEWPORT)
    return path
