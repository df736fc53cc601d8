"""The OCR workbench in a real browser: QA drop a scan, read its text beside the page, export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, FilePayload, FrameLocator, Page, expect

from tests.e2e.conftest import (
    Console,
    assert_page_clean,
    finished_job,
    full_page_screenshot,
    job_ids,
    open_console,
    wait_idle,
)

pytestmark = pytest.mark.e2e

# Phrases of tesseract's phototest.tif (its ground truth is phototest.txt beside it).
QUICK_BROWN = re.compile(r"quick\s+brown", re.IGNORECASE)
LAZY_FOX = re.compile(r"lazy\s+fox", re.IGNORECASE)
# The local server reads a page in seconds; two shared cores and a cold engine stretch that.
OCR_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def two_page_scan(
    browser: Browser, console: Console, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Page]:
    """A session with a two-page TIFF read: tesseract's phototest, then its eurotext."""
    scans = corpus / "scans"
    path = tmp_path_factory.mktemp("scans") / "two-pages.tif"
    with Image.open(scans / "phototest.tif") as first, Image.open(scans / "eurotext.tif") as second:
        first.save(path, save_all=True, append_images=[second], compression="tiff_lzw")
    known = job_ids(console)
    with open_console(browser, console.url) as page:
        _upload(page, path)
        finished_job(console, known, timeout_s=OCR_TIMEOUT_MS / 1000)
        expect(page.get_by_text(re.compile(r"2 pages · 2 read · 0 failed"))).to_be_visible(
            timeout=OCR_TIMEOUT_MS
        )
        # The words follow the text, and the job is redrawn every second until they are all
        # located: the tests click once it is still.
        expect(page.get_by_text(re.compile(r"words located on 2 of 2 pages"))).to_be_visible(
            timeout=OCR_TIMEOUT_MS
        )
        wait_idle(page, timeout_ms=OCR_TIMEOUT_MS)
        yield page


def _upload(page: Page, file: Path | FilePayload) -> None:
    """Drop a file on the workbench's uploader (its file input, as a drag and drop fills it)
    and start an OCR job with it."""
    # The first uploader is the new job's (an open job has one per document for references).
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(file)
    wait_idle(page)
    start = page.get_by_role("button", name="Start OCR job")
    expect(start).to_be_enabled()
    start.click()
    wait_idle(page)


@pytest.fixture(scope="module")
def workbench(browser: Browser, console: Console, corpus: Path) -> Iterator[Page]:
    """One session of the workbench with phototest.tif uploaded and read (OCR once per module)."""
    known = job_ids(console)
    with open_console(browser, console.url) as page:
        expect(page.get_by_role("heading", name="OCR workbench")).to_be_visible()
        _upload(page, corpus / "scans" / "phototest.tif")
        finished_job(console, known, timeout_s=OCR_TIMEOUT_MS / 1000)
        # The summary line is drawn only once every page has a result.
        expect(page.get_by_text(re.compile(r"1 page · 1 read · 0 failed"))).to_be_visible(
            timeout=OCR_TIMEOUT_MS
        )
        expect(page.get_by_text(re.compile(r"words located on 1 of 1 pages"))).to_be_visible(
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
    border = workbench.evaluate(
        "img => getComputedStyle(img).borderTopWidth", image.element_handle()
    )
    assert border == "1px", "a white page needs a frame to show its edge on the white app"
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


def test_raw_text_toggle_shows_the_models_output_verbatim(workbench: Page) -> None:
    workbench.get_by_text("Raw text", exact=True).click()
    wait_idle(workbench)
    raw = workbench.get_by_test_id("stMain").get_by_test_id("stCode")
    expect(raw).to_contain_text(LAZY_FOX)
    workbench.get_by_text("Raw text", exact=True).click()
    wait_idle(workbench)
    expect(raw).to_have_count(0)


def test_a_password_protected_pdf_opens_with_its_password(
    page: Page, corpus: Path, screenshots: Path
) -> None:
    name = "libreoffice-writer-password.pdf"
    _upload(page, corpus / "pdf" / name)
    expect(page.get_by_test_id("stAlert").filter(has_text="password-protected")).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    wait_idle(page)
    full_page_screenshot(page, screenshots / "workbench-password.png")

    password = page.get_by_label(f"Password for {name}")
    password.fill("openpassword")
    password.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Unlock").click()
    # rapidocr tends to drop the spaces of this font: the words are what matter here.
    expect(page.get_by_text(re.compile(r"Lorem\s*ipsum\s*dolor")).first).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    # Its words follow the text; once they are located the page stops redrawing itself
    # (a redraw that moves the page panel holds its old copy, dimmed, until it ends).
    expect(page.get_by_text(re.compile(r"words located on 1 of 1 pages"))).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    wait_idle(page)
    expect(page.get_by_text("digital (text layer)")).to_be_visible()
    assert "openpassword" not in page.get_by_test_id("stMain").inner_text()
    assert_page_clean(page)


def test_a_corrupt_file_gets_a_clear_error_not_a_traceback(page: Page, screenshots: Path) -> None:
    _upload(page, {"name": "broken.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n"})
    error = page.get_by_test_id("stAlert").filter(has_text="broken.pdf")
    expect(error).to_contain_text("cannot be opened", timeout=OCR_TIMEOUT_MS)
    wait_idle(page)
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "workbench-bad-file.png")


def test_a_long_document_pages_through_with_next(two_page_scan: Page, screenshots: Path) -> None:
    page = two_page_scan
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    wait_idle(page)
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_label("Page (of 2)")).to_have_value("2")
    text = page.get_by_test_id("stMain").get_by_test_id("stMarkdownContainer")
    expect(text.filter(has_text=re.compile(r"renard\s+brun"))).to_be_visible()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "workbench-page-2.png")


def test_markup_in_a_scan_is_shown_as_text_not_run_as_html(two_page_scan: Page) -> None:
    """eurotext.tif says `<lazy>` and `&`: the page must show them, not treat them as HTML."""
    page = two_page_scan
    page.get_by_label("Page (of 2)").fill("2")
    page.get_by_label("Page (of 2)").press("Enter")
    wait_idle(page)
    text = page.get_by_test_id("stMain").get_by_test_id("stMarkdownContainer")
    eurotext = text.filter(has_text=re.compile(r"renard\s+brun"))
    expect(eurotext).to_contain_text("<lazy>")
    expect(eurotext).to_contain_text("&")
    assert eurotext.locator("lazy").count() == 0, "OCR text became an element"


def test_words_on_the_page_are_drawn_over_the_scan_and_a_clicked_word_is_marked(
    workbench: Page, screenshots: Path
) -> None:
    page = workbench
    # The worker places the words once the page is read (the job runs until then).
    expect(page.get_by_text(re.compile(r"words located on 1 of 1 pages"))).to_be_visible(
        timeout=OCR_TIMEOUT_MS
    )
    page.get_by_text("Words on the page", exact=True).click()
    wait_idle(page)
    try:
        overlay = page.frame_locator("[data-testid='stIFrame']").first
        expect(overlay.locator("rect.w").first).to_be_visible()
        assert overlay.locator("rect.w").count() >= 40  # phototest.tif says 60 words
        word = overlay.locator("rect.w").nth(5)
        word.click()
        index = word.get_attribute("data-i")
        expect(overlay.locator(f"span[data-i='{index}']")).to_have_class(re.compile("picked"))
        expect(overlay.locator("#picked")).to_contain_text("on the page")
        overlay.locator("#find").fill("quick")
        expect(overlay.locator("rect.found")).to_have_count(4)  # "quick" four times
        assert_page_clean(page)
        full_page_screenshot(page, screenshots / "workbench-words-on-the-page.png")
        _zoom_pan_and_mark(page, overlay, screenshots)
    finally:
        page.get_by_text("Words on the page", exact=True).click()
        wait_idle(page)


def _zoom_pan_and_mark(page: Page, overlay: FrameLocator, screenshots: Path) -> None:
    """Zoomed in, the scan is wider than its box and pans by dragging; a drag marks no word,
    a click still does, and Find still finds (issue 35, item 6)."""
    view = overlay.locator("#view")
    overlay.locator("#zoom-in").click()
    overlay.locator("#zoom-in").click()
    expect(overlay.locator("#zoom")).to_have_text("200%")
    wide, shown = view.evaluate("v => [v.scrollWidth, v.clientWidth]")
    assert wide >= 1.9 * shown, (wide, shown)
    before = view.evaluate("v => v.scrollLeft")
    box = view.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 150, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    assert view.evaluate("v => v.scrollLeft") > before  # panned to the right of the page
    marked = overlay.locator(".picked").count()
    word = overlay.locator("rect.found").first
    word.scroll_into_view_if_needed()
    word.click()
    expect(overlay.locator("#picked")).to_contain_text("quick")
    assert overlay.locator(".picked").count() == 2 and marked == 2  # the rect and its span
    frame = page.get_by_test_id("stIFrame").first
    frame.scroll_into_view_if_needed()
    overlay.locator("body").evaluate("() => window.scrollTo(0, 0)")  # the bar in view
    frame.screenshot(path=str(screenshots / "overlay-zoomed.png"))
