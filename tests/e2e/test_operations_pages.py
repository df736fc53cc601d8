"""Service, Logs and Metrics in a real browser: ops warm the service and read what it did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import assert_no_exception, full_page_screenshot, go_to, wait_idle

pytestmark = pytest.mark.e2e

# A cold start of the local server loads its OCR engine: tens of seconds on two shared cores.
WARM_UP_TIMEOUT_MS = 240_000


def _rows(dataframe: Locator) -> Locator:
    """A dataframe's body rows: the grid is drawn on a canvas, with an accessible table inside."""
    return dataframe.locator("tbody [role='row']")


def test_warm_up_shows_the_measured_cold_start_time_and_records_it(
    page: Page, screenshots: Path
) -> None:
    go_to(page, "Service")
    history = page.get_by_test_id("stDataFrame").filter(has_text="cold start (s)")
    rows_before = _rows(history).count()

    page.get_by_role("button", name="Warm up").click()
    result = page.get_by_test_id("stAlert").filter(has_text="cold-start time")
    expect(result).to_contain_text(
        re.compile(r"Ready: cold-start time \d+\.\d s \(\d+ attempts?\)"),
        timeout=WARM_UP_TIMEOUT_MS,
    )
    wait_idle(page)

    expect(history).to_be_visible()
    expect(_rows(history)).to_have_count(rows_before + 1)
    assert_no_exception(page)
    full_page_screenshot(page, screenshots / "service.png")


def test_logs_page_lists_the_servers_entries(page: Page, screenshots: Path) -> None:
    go_to(page, "Logs")
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    expect(table).to_contain_text("severity")
    # The local server logs its own start-up, so there is always something to read.
    expect(_rows(table).filter(has_text="INFO").first).to_be_attached()
    assert_no_exception(page)
    full_page_screenshot(page, screenshots / "logs.png")


def test_metrics_page_draws_a_chart_or_says_there_is_no_data_yet(
    page: Page, screenshots: Path
) -> None:
    go_to(page, "Metrics")
    startup = page.get_by_role("heading", name="Cold-start (startup) latency, s")
    expect(startup).to_be_visible()
    charts = page.get_by_test_id("stVegaLiteChart")
    no_data = page.get_by_test_id("stAlert").filter(has_text="No data yet")
    expect(charts.or_(no_data).first).to_be_visible()
    assert charts.count() + no_data.count() >= 5, "a metric has neither a chart nor a no-data note"
    assert_no_exception(page)
    full_page_screenshot(page, screenshots / "metrics.png")
