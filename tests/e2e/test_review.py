"""Review in a real browser: a reviewer corrects three words of a read scan by clicking them
on the scan and typing, saves, and the job's searchable PDF carries the corrected words
where the scan shows them (the worker locates the page's words again on its truth); and
Save's shortcut typed in the editor keeps what was just typed, scan overlay or not."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, Page, expect

from console._store import Store
from console.jobs import JobStore
from console.jobs._word_files import job_word_files
from console.review import ReviewStore
from ocr_core import PageWords
from tests.e2e.conftest import (
    Console,
    assert_page_clean,
    finished_job,
    go_to,
    job_ids,
    open_console,
    wait_idle,
)
from tests.waits import wait_until

pytestmark = pytest.mark.e2e

OCR_TIMEOUT_MS = 180_000
SHOTS = Path("/work/notes/shots")
# Three words of tesseract's phototest.tif, each changed by a letter (close enough to the
# ink that the locator places the corrected word where the old one was).
FIXES = {"quick": "quack", "brown": "brawn", "jumped": "jumpad"}


def _upload(page: Page, file: Path, *, words: bool = True) -> None:
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(file)
    wait_idle(page)
    locate = page.get_by_test_id("stCheckbox").filter(has_text="Locate words on the page")
    if locate.locator("input").is_checked() != words:
        locate.locator("label").click()
        wait_idle(page)
    page.get_by_role("button", name="Start OCR job").click()
    wait_idle(page)


def _send_to_review(page: Page, job_id: int, pages: str) -> None:
    """The Review page's form: a page sent is the riskiest, so the page opens on it."""
    page.get_by_text("Send pages to review").click()
    form = page.get_by_test_id("stForm").filter(has_text="Pages (e.g. 1, 3; empty: all)")
    form.get_by_label("Job").fill(str(job_id))
    form.get_by_label("Pages (e.g. 1, 3; empty: all)").fill(pages)
    form.get_by_role("button", name="Send", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(f"1 page of job {job_id} sent to review.")).to_be_visible()


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _shot(page: Page, name: str, screenshots: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (SHOTS, screenshots):
        page.screenshot(path=str(folder / name), full_page=True, animations="disabled")


def test_a_reviewer_corrects_words_on_the_scan_and_the_searchable_pdf_has_them(
    browser: Browser, console: Console, corpus: Path, screenshots: Path
) -> None:
    store = Store.in_dir(console.data_dir)
    jobs = JobStore(store)
    known = job_ids(console)
    try:
        with open_console(browser, console.url) as page:
            _upload(page, corpus / "scans" / "phototest.tif")
            job = finished_job(console, known, timeout_s=OCR_TIMEOUT_MS / 1000)
            expect(page.get_by_text(re.compile(r"words located on 1 of 1 pages"))).to_be_visible(
                timeout=OCR_TIMEOUT_MS
            )
            wait_idle(page, timeout_ms=OCR_TIMEOUT_MS)
            [document] = jobs.documents(job.id)
            before = jobs.words.page(document.id, 0)
            assert before is not None and before.words is not None

            go_to(page, "Review")
            _send_to_review(page, job.id, "1")
            expect(page.get_by_text(f"Job {job.id}, page 1")).to_be_visible()

            overlay = page.frame_locator("[data-testid='stIFrame']").first
            # Alt+N typed in the editor walks the overlay's doubtful words (the keys' script
            # calls what the overlay's frame hands the page).
            page.wait_for_function("() => typeof document.reviewNext === 'function'")
            editor = page.get_by_role("textbox", name="Page text")
            picked: dict[str, int] = {}
            for n, (old, new) in enumerate(FIXES.items()):
                word = overlay.locator(f"rect.w:has(title:text-is('{old}'))").first
                word.click()
                expect(overlay.locator("#picked")).to_contain_text("selected in the editor")
                picked[new] = int(word.get_attribute("data-i") or -1)
                page.keyboard.type(new)
                if n < len(FIXES) - 1:
                    editor.blur()  # the value reaches Streamlit (a rerun) before the next click
                    wait_idle(page)
            for new in FIXES.values():
                expect(editor).to_have_value(re.compile(new))
            _shot(page, "review-corrected.png", screenshots)
            # Save's shortcut, typed in the editor before its last fix reached Streamlit: the
            # fix is saved with the rest (the overlay hands the text over, then saves).
            page.keyboard.press("Alt+S")
            wait_idle(page)
            expect(page.get_by_text("Saved as version 1 (corrected).")).to_be_visible()
            # The page's CER against its new truth: three one-letter fixes, not 0.
            cer_line = re.compile(
                r"CER of the model's text against the truth \(version 1, corrected by .+\): "
                r"(?!0\.00%)\d+\.\d\d%"
            )
            expect(page.get_by_text(cer_line)).to_be_visible()
            assert_page_clean(page)
            _shot(page, "review-saved.png", screenshots)

        review = ReviewStore(store)
        [truth] = review.versions(review.page(job.id, 1))
        missing = [new for new in FIXES.values() if new not in truth.text]
        assert not missing, (missing, truth.text)

        # The worker locates the page again on its truth; then the PDF is made of it.
        def relocated() -> PageWords | None:
            found = jobs.words.page(document.id, 0)
            words = found.words if found is not None else None
            return words if words and any(w.text == "quack" for w in words.words) else None

        assert wait_until(lambda: relocated() is not None, timeout_s=120)
        after = relocated()
        assert after is not None
        [files] = job_word_files(jobs, job.id, ["pdf"])
        pdf_page = pdfium.PdfDocument(files.files[".pdf"])[0]
        width_pt, height_pt = pdf_page.get_size()
        textpage = pdf_page.get_textpage()
        for new, index in picked.items():
            old_box, new_box = before.words.words[index].box, after.words[index].box
            assert after.words[index].text == new
            assert old_box is not None and new_box is not None
            assert _overlap(old_box, new_box) > 0.5, "the corrected word is not where it was"
            sx, sy = width_pt / after.width, height_pt / after.height
            x0, y0, x1, y1 = new_box
            found = textpage.get_text_bounded(
                left=x0 * sx - 2,
                bottom=height_pt - y1 * sy - 2,
                right=x1 * sx + 2,
                top=height_pt - y0 * sy + 2,
            )
            assert new in found, f"{new!r} is not at its place in the PDF (found {found!r})"
    finally:
        store.close()


def test_save_s_shortcut_typed_in_the_editor_keeps_the_typing_on_a_page_without_words(
    browser: Browser, console: Console, corpus: Path
) -> None:
    """No scan to click on (the job did not locate words): Alt+S pressed while typing still
    hands the text over first (Streamlit's own shortcut would save it without the typing),
    and so does a Mac's Option+S."""
    store = Store.in_dir(console.data_dir)
    known = job_ids(console)
    try:
        with open_console(browser, console.url) as page:
            _upload(page, corpus / "scans" / "phototest.tif", words=False)
            job = finished_job(console, known, timeout_s=OCR_TIMEOUT_MS / 1000)
            wait_idle(page)
            go_to(page, "Review")
            _send_to_review(page, job.id, "1")
            expect(page.get_by_text("The words are not located on this page yet.")).to_be_visible()
            editor = page.get_by_role("textbox", name="Page text")
            editor.click()
            page.keyboard.press("Control+End")
            page.keyboard.type(" Checked by QA.")
            page.keyboard.press("Alt+S")
            wait_idle(page)
            expect(page.get_by_text("Saved as version 1 (corrected).")).to_be_visible()
            # Option+S on a Mac types "ß": the key's place says it is Save.
            editor.click()
            page.keyboard.press("Control+End")
            page.keyboard.type(" Twice.")
            mac = {"key": "ß", "code": "KeyS", "altKey": True, "bubbles": True}
            editor.dispatch_event("keydown", mac)
            wait_idle(page)
            expect(page.get_by_text("Saved as version 2 (corrected).")).to_be_visible()
            assert_page_clean(page)
        review = ReviewStore(store)
        first, second = review.versions(review.page(job.id, 1))
        assert first.text.endswith(" Checked by QA."), first.text
        assert second.text.endswith(" Checked by QA. Twice."), second.text
    finally:
        store.close()
