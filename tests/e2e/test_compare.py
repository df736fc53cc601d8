"""The Compare page in a real browser: a scan read by the console's service (rapidocr) and
by a second server with other text (the fault server), side by side with the word diff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_page_clean, full_page_screenshot, go_to, wait_idle
from tests.fakes.fault_server import FaultServer

pytestmark = pytest.mark.e2e
OCR_TIMEOUT_MS = 300_000  # rapidocr on a shared 2-core machine: up to a minute a page
COLOUR = re.compile(r"page #[0-9a-f]{6}")  # the fault server's answer names the page colour


@pytest.fixture
def other() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def test_two_endpoints_are_shown_side_by_side_with_their_diff(
    page: Page, corpus: Path, other: FaultServer, screenshots: Path
) -> None:
    go_to(page, "Compare")
    page.get_by_label("Other endpoint URL").fill(other.base_url)
    page.get_by_label("Other endpoint URL").press("Enter")
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").locator("input[type='file']")
    uploader.set_input_files(corpus / "scans" / "phototest.tif")
    wait_idle(page)
    page.get_by_role("button", name="Compare", exact=True).click()
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    # Both sides, each with its own text: rapidocr reads the scan, the other server names a colour.
    expect(main.get_by_text("The quick brown dog").first).to_be_visible(timeout=OCR_TIMEOUT_MS)
    expect(main.get_by_text(COLOUR).first).to_be_visible(timeout=OCR_TIMEOUT_MS)
    wait_idle(page)
    # The diff: words only the left read struck through, the right's underlined, as elements.
    expect(main.locator("del").first).to_be_visible()
    expect(main.locator("u", has_text=COLOUR)).to_have_count(1)
    expect(main.get_by_text("phototest.tif · page 1")).to_be_visible()
    assert len(other.chat_requests()) == 1
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "compare.png")
