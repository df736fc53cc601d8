"""The whole console (`console/ui/app.py`): navigation, the sidebar on every page, and OCR
through the app, against the real local platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.platforms._local_warm_up import probe_image
from console.service import Operations
from console.ui._state import get_operations
from ocr_core import ClientSettings, OCRError, SyncOCRClient
from tests.console.ui.views.console_ops import app, installed_operations
from tests.waits import wait_until

PAGES = {
    "views/workbench.py": "OCR workbench",
    "views/service.py": "Service",
    "views/logs.py": "Logs",
    "views/metrics.py": "Metrics",
    # Empty in a new console: the sidebar must still be drawn (an st.stop() once hid it).
    "views/quality.py": "Quality",
    "views/compare.py": "Compare",
    "views/backfills.py": "Backfills",
}


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path) as operations:
        yield operations


def _sidebar(at: AppTest) -> list[str]:
    return [m.value for m in at.sidebar.markdown]


def test_the_console_opens_on_the_workbench(operations: Operations) -> None:
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "OCR workbench"


def test_the_sidebar_names_platform_url_service_state_and_breaker(
    operations: Operations,
) -> None:
    at = app().run()
    assert "**local**" in _sidebar(at)
    assert at.sidebar.code[0].value == operations.platform.service_url
    assert ":green-badge[service: ready]" in _sidebar(at)
    assert ":green-badge[breaker: closed]" in _sidebar(at)


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_every_page_opens_in_the_app_with_the_sidebar(
    operations: Operations, path: str, title: str
) -> None:
    at = app().run()
    at.switch_page(path).run()
    assert not at.exception
    assert at.title[0].value == title
    assert ":green-badge[service: ready]" in _sidebar(at)


def test_the_sidebar_shows_the_state_an_action_left(operations: Operations) -> None:
    at = app().run()
    at.switch_page("views/service.py").run()
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    assert ":gray-badge[service: down]" in _sidebar(at)


def test_a_pdf_uploaded_in_the_app_is_read(operations: Operations, corpus: Path) -> None:
    at = app().run()
    data = (corpus / "pdf" / "multicolumn.pdf").read_bytes()
    at.file_uploader[0].set_value(("multicolumn.pdf", data, "application/pdf")).run()
    at.toggle(key="wb_locate_words").set_value(False).run()
    at.button(key="wb_start").click().run()  # the job runs in the console's runner
    assert wait_until(lambda: not get_operations().jobs.jobs()[0].active, timeout_s=180)
    at.run()
    assert not at.exception
    assert any("This text stands in for the OCR of one page." in m.value for m in at.markdown)


def test_the_real_cpu_engine_reads_a_scan(tmp_path: Path, corpus: Path) -> None:
    """rapidocr, the local default engine: the words on the page come back."""
    with installed_operations(tmp_path, server_args=("--engine", "rapidocr")):
        at = app().run()
        data = (corpus / "scans" / "phototest.tif").read_bytes()
        at.file_uploader[0].set_value(("phototest.tif", data, "image/tiff")).run(timeout=120)
        at.button(key="wb_start").click().run()
        assert wait_until(lambda: not get_operations().jobs.jobs()[0].active, timeout_s=300)
        at.run(timeout=120)
        assert not at.exception
        text = " ".join(m.value for m in at.markdown)
        for words in ("quick brown dog", "lazy fox", "12 point text"):
            assert words in text


def test_warm_up_closes_the_breaker_an_outage_opened_for_every_page(tmp_path: Path) -> None:
    """Scaled to zero, pages fail and open the console's breaker; Warm up on the Service page
    closes it for the workbench's client too, so "Retry failed pages" works (issue 10, M4)."""
    no_retries = ClientSettings(max_attempts=1)  # each failed page fails at once
    with installed_operations(tmp_path, default_floor=0, client_settings=no_retries) as operations:
        # A client on the service's one breaker, as the worker's runner uses for job pages.
        settings = operations.platform.client_settings()
        client = SyncOCRClient(settings=settings, breaker=operations.breaker)
        for _ in range(client.settings.breaker_failure_threshold):
            with pytest.raises(OCRError):
                client.extract_text(probe_image())
        at = app().run()
        at.switch_page("views/service.py").run()
        assert wait_until(lambda: any("breaker: open" in line for line in _sidebar(at.run())))

        at.button(key="svc_warm_up").click().run()
        assert not at.exception
        # The sidebar shows the worker's breaker from its beat (every 2 s).
        assert wait_until(lambda: ":green-badge[breaker: closed]" in _sidebar(at.run()))
        assert client.extract_text(probe_image())


def test_the_sidebar_says_disk_full_when_the_data_folder_has_no_room(
    operations: Operations, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without it, a full disk showed as a job forever "running" beside "worker: not
    running". The threshold is raised past what the disk has, which is what full means."""
    monkeypatch.setenv("LIGHTONOCR_LOW_DISK_MB", str(10**9))
    at = app().run()
    [error] = [e.value for e in at.sidebar.error]
    assert error.startswith("disk full") and str(operations.store.path.parent) in error
