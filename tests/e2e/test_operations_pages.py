"""Service, Logs and Metrics in a real browser: ops warm the service and read what it did."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from console._loopback import is_loopback
from console._supervisor import LOOPBACK_ARGS
from tests.e2e.conftest import (
    VIEWPORT,
    Console,
    assert_page_clean,
    full_page_screenshot,
    go_to,
    open_console,
    running_console,
    wait_idle,
)

pytestmark = pytest.mark.e2e

# A cold start of the local server loads its OCR engine: tens of seconds on two shared cores.
WARM_UP_TIMEOUT_MS = 240_000
# A dataframe row of one line, and the least height at which Streamlit wraps a cell (4rem).
ROW_PX = 35
WRAPPING_ROW_PX = 64


def _log_a_request(console: Console, count: int = 1, padding: str = "") -> str:
    """Make the OCR server log `count` requests no one else makes (their paths padded with
    `padding`); returns the text to look for."""
    marker = f"e2e-{uuid.uuid4().hex[:12]}"
    for i in range(count):
        path = f"{marker}-{i}{padding}"
        assert httpx.get(f"{console.service_url}/{path}", timeout=10).status_code == 404
    return marker


def _show_logs_matching(page: Page, text: str) -> Locator:
    """The Logs page filtered to `text`; returns its table."""
    go_to(page, "Logs")
    search = page.get_by_label("Message contains")
    search.fill(text)
    search.press("Enter")
    wait_idle(page)
    return page.get_by_test_id("stDataFrame")


def _wait_for_height(page: Page, table: Locator, compare: str, px: int) -> None:
    """Wait until the table's height compares to `px` as asked: the grid resizes after its
    rows arrive, so a height read at once may be the table's before the filter."""
    page.wait_for_function(
        f"([el, px]) => el.getBoundingClientRect().height {compare} px",
        arg=[table.element_handle(), px],
        timeout=10_000,
    )


def _rows(dataframe: Locator) -> Locator:
    """A dataframe's body rows: the grid is drawn on a canvas, with an accessible table inside."""
    return dataframe.locator("tbody [role='row']")


def test_warm_up_from_zero_shows_the_measured_cold_start_time_and_records_it(
    page: Page, screenshots: Path
) -> None:
    go_to(page, "Service")
    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_role("button", name="Scale to zero now").click()
    wait_idle(page)
    page.get_by_role("button", name="Confirm").click()
    expect(sidebar.get_by_text("service: down")).to_be_visible()
    wait_idle(page)
    history = page.get_by_test_id("stDataFrame").filter(has_text="outcome")
    rows_before = _rows(history).count()

    page.get_by_role("button", name="Warm up").click()
    expect(page.get_by_text(re.compile(r"Elapsed: \d+ s"))).to_be_visible()
    result = page.get_by_test_id("stAlert").filter(has_text="cold-start time")
    expect(result).to_contain_text(
        re.compile(r"Ready: cold-start time \d+\.\d s \(after \d+ health checks?\)"),
        timeout=WARM_UP_TIMEOUT_MS,
    )
    wait_idle(page)

    expect(sidebar.get_by_text("service: ready")).to_be_visible()
    expect(_rows(history)).to_have_count(rows_before + 1)
    measured = float(re.search(r"(\d+\.\d) s", result.inner_text()).group(1))
    newest = _rows(history).first.locator("[role='gridcell']").nth(3)
    # The result shows one decimal, the history two: they agree to the rounding.
    assert abs(float(newest.inner_text()) - measured) <= 0.051, "history differs from the result"
    outcome = _rows(history).first.locator("[role='gridcell']").nth(2)
    expect(outcome).to_have_text("cold start")
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "service.png")


def test_warming_a_warm_service_is_listed_as_already_warm_not_as_a_cold_start(
    page: Page, screenshots: Path
) -> None:
    go_to(page, "Service")
    history = page.get_by_test_id("stDataFrame").filter(has_text="outcome")
    for _ in range(2):  # the first may find it cold (another test scaled it to zero)
        page.get_by_role("button", name="Warm up").click()
        expect(
            page.get_by_test_id("stAlert")
            .filter(has_text="Ready")
            .or_(page.get_by_test_id("stAlert").filter(has_text="Already warm"))
        ).to_be_visible(timeout=WARM_UP_TIMEOUT_MS)
        wait_idle(page)
    expect(
        page.get_by_test_id("stAlert").filter(has_text="Already warm: answered in")
    ).to_be_visible()
    cells = _rows(history).first.locator("[role='gridcell']")
    expect(cells.nth(2)).to_have_text("already warm")
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "service-already-warm.png")
    go_to(page, "Metrics")
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "metrics-after-warm-ups.png")


def test_the_toolbar_offers_no_deploy_button(page: Page) -> None:
    """The repository's .streamlit/config.toml keeps Streamlit's developer toolbar out."""
    expect(page.get_by_test_id("stToolbar")).to_be_attached()
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)


def test_logs_page_lists_the_servers_entries(page: Page, screenshots: Path) -> None:
    go_to(page, "Logs")
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    expect(table).to_contain_text("severity")
    # The local server logs its own start-up, so there is always something to read.
    expect(_rows(table).filter(has_text="INFO").first).to_be_attached()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "logs.png")


def test_logs_text_filter_keeps_only_matching_entries(page: Page, console: Console) -> None:
    marker = _log_a_request(console)
    messages = _rows(_show_logs_matching(page, marker)).locator("[aria-colindex='3']")
    expect(messages).to_have_count(1)
    expect(messages).to_contain_text(f"GET /{marker}")
    assert_page_clean(page)


def test_the_logs_table_is_as_tall_as_its_rows_not_a_ten_row_box(
    page: Page, console: Console
) -> None:
    marker = _log_a_request(console, count=14)
    table = _show_logs_matching(page, marker)
    expect(_rows(table)).to_have_count(14)
    _wait_for_height(page, table, ">=", 15 * ROW_PX)  # not rows hidden in a scrolling box


def test_a_short_message_takes_one_line_and_a_long_one_gets_a_row_that_wraps(
    page: Page, console: Console
) -> None:
    short = _log_a_request(console)
    table = _show_logs_matching(page, short)
    expect(_rows(table)).to_have_count(1)
    _wait_for_height(page, table, "<", 2 * ROW_PX + WRAPPING_ROW_PX)
    long = _log_a_request(console, padding="/" + "segment" * 25)
    table = _show_logs_matching(page, long)
    expect(_rows(table)).to_have_count(1)
    expect(_rows(table).first).to_contain_text(long)
    # Streamlit wraps a cell's text only in rows taller than 4rem (64 px).
    _wait_for_height(page, table, ">=", ROW_PX + WRAPPING_ROW_PX)


def test_live_tail_appends_new_entries_as_they_are_logged(
    page: Page, console: Console, screenshots: Path
) -> None:
    go_to(page, "Logs")
    page.get_by_text("Live tail", exact=True).click()
    expect(page.get_by_text(re.compile(r"Live: \d+ entries held"))).to_be_visible()
    marker = _log_a_request(console)
    # The tail is drained every 2 s without a click: the new entry arrives by itself.
    messages = _rows(page.get_by_test_id("stDataFrame")).locator("[aria-colindex='3']")
    expect(messages.filter(has_text=marker)).to_have_count(1, timeout=15_000)
    expect(messages.first).to_contain_text(marker)  # newest first
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "logs-live.png")


def test_metrics_page_draws_a_chart_or_says_there_is_no_data_yet(
    page: Page, screenshots: Path
) -> None:
    go_to(page, "Metrics")
    expect(page.get_by_role("heading", name="Cold-start (startup) latency, s")).to_be_visible()
    # Every metric's heading heads a chart or a note; besides them the page has its title,
    # the combined chart, cost, cold starts and the warm-up history.
    metric_count = page.get_by_test_id("stHeading").count() - 5
    assert metric_count >= 5, "startup, memory, instances, request latency and count at least"
    charts = page.get_by_test_id("stVegaLiteChart")
    no_data = page.get_by_test_id("stAlert").filter(has_text="No data yet")
    expect(charts.or_(no_data).nth(metric_count - 1)).to_be_visible()  # at least one each
    # The console's own warm-ups and the server's start are there to chart by now.
    expect(charts.first).to_be_visible()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "metrics.png")


# --- offline and loopback only ------------------------------------------------------------------


def test_the_console_fetches_nothing_from_outside_this_machine(
    browser: Browser, console_url: str
) -> None:
    """Every page loads with nothing but loopback: no web font, no icon from a CDN."""
    outside: list[str] = []

    def only_loopback(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob") or is_loopback(url.hostname):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.route("**/*", only_loopback)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(console_url)
        wait_idle(page)
        for title in ("Service", "Logs", "Metrics", "OCR workbench"):
            go_to(page, title)
        page.wait_for_timeout(500)  # the favicon is fetched after the page settles
    finally:
        context.close()
    assert outside == []


def _dev_py_loopback_args() -> tuple[str, ...]:
    """The address and allowed hosts `python3 dev.py console` (`python -m console`) passes
    to streamlit."""
    return LOOPBACK_ARGS


@contextmanager
def _console_started_elsewhere(tmp_path: Path, *args: str) -> Iterator[str]:
    """`streamlit run /abs/console/ui/app.py` from a folder without the repository's config
    file, bypassing `python -m console` (which always binds loopback unless told)."""
    with running_console(
        tmp_path / "data", args=args, cwd=tmp_path, bare_streamlit=True
    ) as started:
        yield started.url


def _handshake_status(url: str, host: str) -> int:
    """The HTTP status of a websocket upgrade to the console sent as a browser on `host` would."""
    address = urlsplit(url)
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Origin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_a_websocket_naming_another_host_is_refused_dns_rebinding(tmp_path: Path) -> None:
    with _console_started_elsewhere(tmp_path, *_dev_py_loopback_args()) as url:
        port = urlsplit(url).port
        assert _handshake_status(url, f"127.0.0.1:{port}") == 101
        assert _handshake_status(url, f"localhost:{port}") == 101
        assert _handshake_status(url, f"attacker.example:{port}") != 101


def test_a_console_listening_on_every_interface_refuses_to_serve(
    browser: Browser, tmp_path: Path
) -> None:
    """Started from another folder with no address: Streamlit binds every interface, so the
    app shows why and how to start it, and builds nothing (no OCR server is started)."""
    with _console_started_elsewhere(tmp_path) as url, open_console(browser, url) as page:
        expect(page.get_by_text("it only serves on loopback")).to_be_visible()
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert not (tmp_path / "data" / "server.log").exists()
