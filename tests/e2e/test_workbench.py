"""The OCR workbench in a real browser: QA drop a scan, read its text beside the page, export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import assert_page_clean, full_page_screenshot, open_console, wait_idle

pytestmark = pytest.mark.e2e

# Phrases of tesseract's phototest.tif (its ground truth is phototest.txt beside it).
QUICK_BROWN = re.compile(r"quick\s+brown", re.IGNORECASE)
LAZY_FOX = re.compile(r"lazy\s+fox", re.IGNORECASE)
# The local server reads a page in seconds; two shared cores and a cold engine stretch that.
OCR_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def workbench(browser: Browser, console_url: str, corpus: Path) -> Iterator[Page]:
    """One session of the workbench with phototest.tif uploaded and read (OCR once per module)."""
    with open_console(browser, console_url) as page:
        expect(page.get_by_role("heading", name="OCR workbench")).to_be_visible()
        uploader = page.get_by_test_id("stFileUploader")
        uploader.locator("input[type='file']").set_input_files(corpus / "scans" / "phototest.tif")
        # The summary line is drawn only once every page has a result.
        expect(page.get_by_text(re.compile(r"1 pages · 1 read · 0 failed"))).to_be_visible(
            timeout=OCR_TIMEOUT_MS
        )
        wait_idle(page, timeout_ms=OCR_TIMEOUT_MS)
        yield page


def test_uploaded_scan_shows_its_ocr_text_beside_the_page_image(
    workbench: Page, screenshots: Path
) -> None:
    image = workbench.get_by_test_id("stImage").locator("img")
    expect(image).to_be_visible()
    assert workbench.evaluate("img => img.naturalWidth > 0 && img.complete", image.element_handle())
    text = workbench.get_by_test_id("stMarkdownContainer").filter(has_text=LAZY_FOX)
    expect(text).to_have_count(1)
    expect(text).to_contain_text(QUICK_BROWN)

    image_box, text_box = image.bounding_box(), text.bounding_box()
    assert image_box is not None and text_box is not None
    assert image_box["x"] + image_box["width"] <= text_box["x"], "the text is not right of the page"
    overlap = min(image_box["y"] + image_box["height"], text_box["y"] + text_box["height"]) - max(
        image_box["y"], text_box["y"]
    )
    assert overlap > 0, "the text does not sit beside the page image"
    assert_page_clean(workbench)
    full_page_screenshot(workbench, screenshots / "workbench.png")


def test_json_download_carries_each_pages_text_and_metadata(workbench: Page) -> None:
    json_button = workbench.get_by_test_id("stDownloadButton").filter(has_text="JSON")
    with workbench.expect_download() as download_info:
        json_button.click()
    download = download_info.value
    wait_idle(workbench)

    assert download.suggested_filename == "phototest.json"
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert exported["filename"] == "phototest.tif"
    assert (exported["page_count"], exported["ok_count"], exported["failed_count"]) == (1, 1, 0)
    (page,) = exported["pages"]
    assert page["page"] == 1 and page["ok"] is True and page["error"] is None
    assert QUICK_BROWN.search(page["text"]) and LAZY_FOX.search(page["text"])
    assert page["latency_s"] > 0
    assert page["attempts"] >= 1
    assert page["truncated"] is False
    assert page["has_text_layer"] is not True, "a TIFF scan has no text layer"
    assert page["width"] > 0 and page["height"] > 0
