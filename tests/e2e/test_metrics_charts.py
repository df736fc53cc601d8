"""The Metrics page's new charts as the browser draws them: Vega must accept their specs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, expect

from console._store import Store, WarmUpRecord
from console.metrics._cold_starts import ColdStarts
from tests.e2e.conftest import Console, assert_page_clean, full_page_screenshot, go_to


def _record_cold_start(console: Console) -> None:
    """A cold start with every mark, as a vLLM start on Cloud Run writes them."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    record = WarmUpRecord(
        at=at, platform="local", ready=True, seconds=84.0, attempts=12, error=None, cold=True
    )
    offsets = {
        "sent": 0,
        "instance": 4,
        "process": 9,
        "weights_start": 21,
        "weights_loaded": 31,
        "graphs_captured": 75,
        "engine_ready": 78,
        "listening": 80,
        "model_listed": 82,
        "answered": 84,
    }
    store = Store.in_dir(console.data_dir)
    try:
        store.add_warm_up(record)
        marks = {mark: at + timedelta(seconds=s) for mark, s in offsets.items()}
        ColdStarts(store).record(record, marks)
    finally:
        store.close()


def test_the_cold_start_and_combined_charts_are_drawn_without_errors(
    page: Page, console: Console, screenshots: Path
) -> None:
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep)
    _record_cold_start(console)
    go_to(page, "Metrics")
    section = (
        page.get_by_test_id("stVerticalBlock")
        .filter(has=page.get_by_text("Longest phase", exact=False))
        .last
    )
    expect(section.get_by_text("compile + CUDA graphs").first).to_be_visible(timeout=30_000)
    charts = section.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(2)
    for chart in charts.all():
        expect(chart.locator("canvas, svg").first).to_be_visible()
    combined = page.get_by_test_id("stVegaLiteChart").filter(has_text="vLLM")
    expect(combined.first).to_be_visible()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "metrics-cold-starts.png")
    assert not [e for e in errors if "vega" in e.lower() or "spec" in e.lower()], errors
