"""The Quality page in a real browser: register a zip of a scan and its ground truth, run the
golden set on the console's own service (rapidocr), and read its score by revision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.console.golden.conftest import EXAMPLES, make_zip
from tests.e2e.conftest import assert_page_clean, full_page_screenshot, go_to, wait_idle

pytestmark = pytest.mark.e2e
OCR_TIMEOUT_MS = 300_000  # rapidocr on a shared 2-core machine: up to a minute a page


def test_a_golden_set_is_registered_run_and_scored(page: Page, screenshots: Path) -> None:
    go_to(page, "Quality")
    page.get_by_label("Name").fill("e2e-photo")
    page.get_by_label("Name").press("Enter")
    wait_idle(page)
    archive = make_zip(
        {
            "photo/phototest.tif": (EXAMPLES / "phototest.tif").read_bytes(),
            "photo/phototest.txt": (EXAMPLES / "phototest.txt").read_bytes(),
            "photo/stray.pdf": b"%PDF-1.4",
        }
    )
    page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(
        {"name": "photo.zip", "mimeType": "application/zip", "buffer": archive}
    )
    wait_idle(page)
    page.get_by_role("button", name="Register").click()
    wait_idle(page)
    expect(page.get_by_text("Registered e2e-photo: 1 documents.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"stray\.pdf: no expected text beside it"))).to_be_visible()
    page.get_by_role("button", name="Run golden set").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Run #\d+: no regression\."))).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    wait_idle(page)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(1)
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "quality.png")
