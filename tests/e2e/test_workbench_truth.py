"""Ground truth in a real browser: QA drop a scan with its reference text and see how far the
OCR is from it, word by word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    Console,
    assert_page_clean,
    finished_job,
    full_page_screenshot,
    job_ids,
    wait_idle,
)

pytestmark = pytest.mark.e2e

OCR_TIMEOUT_MS = 180_000


def _reference(corpus: Path) -> bytes:
    """phototest's truth, changed so the diff has all three kinds of edit: a word read as
    another (quick -> quack), a word only the OCR has ("lazy" taken out once) and words only
    the reference has (a sentence that is not on the page)."""
    truth = (corpus / "scans" / "phototest.txt").read_text(encoding="utf-8")
    truth = truth.replace("quick", "quack", 1).replace("lazy fox", "fox", 1)
    return (truth + "\nThis sentence is nowhere on the page.\n").encode()


def test_a_scan_and_its_reference_show_the_scores_and_a_highlighted_diff(
    page: Page, console: Console, corpus: Path, screenshots: Path
) -> None:
    known = job_ids(console)
    files = [
        {
            "name": "phototest.tif",
            "mimeType": "image/tiff",
            "buffer": (corpus / "scans" / "phototest.tif").read_bytes(),
        },
        {"name": "phototest.txt", "mimeType": "text/plain", "buffer": _reference(corpus)},
    ]
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(
        files  # type: ignore[arg-type]
    )
    wait_idle(page)
    page.get_by_role("button", name="Start OCR job").click()
    wait_idle(page)
    finished_job(console, known, timeout_s=OCR_TIMEOUT_MS / 1000)
    expect(page.get_by_text(re.compile(r"1 page · 1 read · 0 failed"))).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    # The page redraws itself until its words are located (a redraw that moves a part of
    # the page holds its old copy, dimmed, until it ends): the checks below wait for that.
    expect(page.get_by_text(re.compile(r"words located on 1 of 1 pages"))).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    wait_idle(page, timeout_ms=OCR_TIMEOUT_MS)

    cer = page.get_by_test_id("stMetric").filter(has_text=re.compile(r"^CER"))
    expect(cer).to_have_count(1)
    value = cer.get_by_test_id("stMetricValue").inner_text()
    assert re.fullmatch(r"\d+\.\d%", value), value
    assert 0 < float(value[:-1]) < 50, f"phototest read far from its truth: CER {value}"
    expect(page.get_by_test_id("stMetric").filter(has_text="Mean CER")).to_have_count(1)

    diff = page.locator(".st-key-wb_diff")
    expect(diff.locator("del").filter(has_text="nowhere on the page")).to_have_count(1)
    expect(diff.locator("s").filter(has_text="quack")).to_have_count(1)
    expect(diff.locator("b").filter(has_text="quick")).to_have_count(1)
    expect(diff.locator("u").filter(has_text="lazy").first).to_be_visible()
    # Highlighted: lost words on red, added ones on green (the CSS keyed to the container).
    lost = diff.locator("del").first.evaluate("e => getComputedStyle(e).backgroundColor")
    added = diff.locator("u").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert (lost, added) == ("rgb(255, 215, 213)", "rgb(204, 255, 216)")
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "workbench-diff.png")
