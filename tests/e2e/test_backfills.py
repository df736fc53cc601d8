"""The Backfills view in a real browser: a backfill run from a shell into the console's store
shows its counts and failure; a failed document opens in the workbench as a job with one
click (the door's action, then the workbench at that job)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.console.jobs.conftest import make_pdf
from tests.e2e.conftest import (
    ROOT,
    Console,
    assert_page_clean,
    full_page_screenshot,
    go_to,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _backfill(console: Console, tmp_path: Path) -> None:
    """Two good PDFs and a corrupt one, read by a local task against the console's server."""
    source = tmp_path / "archive"
    source.mkdir()
    for n in range(2):
        (source / f"loan-{n}.pdf").write_bytes(make_pdf(1))
    (source / "torn.pdf").write_bytes(b"%PDF-1.7\n the rest was lost")
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(console.data_dir),
        "LIGHTONOCR_SERVICE_URL": console.service_url,
        "LIGHTONOCR_ACTOR": "ops@bank.example",
    }
    command = [sys.executable, "-m", "console.jobs", "backfill", str(source)]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "ocr"), "--local-tasks", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_a_failed_document_of_a_backfill_opens_in_the_workbench(
    page: Page, console: Console, tmp_path: Path, screenshots: Path
) -> None:
    _backfill(console, tmp_path)
    go_to(page, "Backfills")
    picker = page.get_by_role("combobox", name="Open a failed document in the workbench")
    expect(picker).to_be_visible()
    assert picker.input_value() == "torn.pdf"
    expect(page.get_by_role("button", name="Retry 1 failed")).to_be_visible()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "backfills.png")

    page.get_by_role("button", name="Open in workbench").click()

    page.wait_for_selector("h1:has-text('OCR workbench')")
    wait_idle(page)
    assert "job=" in page.url
    # The job opened is the document's: its heading (the jobs' table above is a canvas).
    heading = page.get_by_role("heading", name=re.compile(r"^torn\.pdf \("))
    expect(heading).to_be_visible()
    assert_page_clean(page)
    full_page_screenshot(page, screenshots / "backfill-opened-in-workbench.png")
