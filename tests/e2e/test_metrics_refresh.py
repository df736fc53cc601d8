"""The Metrics page follows the service on its own: what lands in the store appears without a
click (the page's fragment reruns every REFRESH_S)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from console._store import Store, WarmUpRecord
from console.ui.views.metrics import REFRESH_S
from tests.e2e.conftest import Console, assert_page_clean, full_page_screenshot, go_to

MARKER_SECONDS = 4321.98


def test_a_warm_up_recorded_elsewhere_appears_on_an_open_metrics_page_without_a_click(
    page: Page, console: Console, screenshots: Path
) -> None:
    go_to(page, "Metrics")
    history = page.get_by_test_id("stDataFrame").last
    expect(page.get_by_text(f"{MARKER_SECONDS}")).to_have_count(0)
    # Another tab (or the CLI) warms the service: the warm-up lands in the shared store.
    store = Store.in_dir(console.data_dir)
    try:
        store.add_warm_up(
            WarmUpRecord(
                at=datetime.now(UTC),
                platform="local",
                ready=False,
                seconds=MARKER_SECONDS,
                attempts=1,
                error="refresh test",
                cold=False,
            )
        )
    finally:
        store.close()
    cell = history.locator("tbody [role='gridcell']").filter(has_text=f"{MARKER_SECONDS}")
    expect(cell).to_have_count(1, timeout=(REFRESH_S + 30) * 1000)
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "metrics-refreshed.png")
