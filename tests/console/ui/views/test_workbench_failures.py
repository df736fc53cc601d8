"""A job whose pages or documents failed ends "done with failures", never a green done, and
its failures are one click away (issue 35, item 3)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from console.service import Operations
from console.ui._state import get_operations
from tests.console.jobs.conftest import make_pdf, wait_until
from tests.console.ui.views.console_ops import installed_operations, page
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import tiff_pages


def _start(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader[0].set_value(list(files) if len(files) > 1 else files[0])
    at.run()
    at.toggle(key="wb_locate_words").set_value(False).run()  # not what these tests are about
    at.button(key="wb_start").click().run()
    assert not at.exception
    jobs = get_operations().jobs
    assert wait_until(lambda: not jobs.jobs()[0].active, timeout_s=180)
    return at.run()


def _badges(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if "-badge[" in m.value)


def test_a_job_with_a_corrupt_document_is_done_with_failures_not_done(
    operations: Operations, corpus: Path
) -> None:
    data = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    at = _start(
        page("workbench").run(),
        ("good.pdf", make_pdf(2), "application/pdf"),
        ("cut.pdf", data[: len(data) // 2], "application/pdf"),
    )
    assert ":orange-badge[done with failures]" in _badges(at)
    assert ":green-badge[done]" not in _badges(at)
    assert at.dataframe[0].value["status"].tolist() == ["done with failures"]
    assert "1 document not read" in at.dataframe[0].value["pages"][0]
    assert any("cut.pdf" in e.value and "damaged or truncated" in e.value for e in at.error)


def test_a_failed_page_is_listed_and_opened_with_one_click(tmp_path: Path) -> None:
    red, white = "#ff0000", "#ffffff"
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = red, 400
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            two = ("two.tif", tiff_pages([white, red]), "image/tiff")
            at = _start(page("workbench").run(), two)
            assert ":orange-badge[done with failures]" in _badges(at)
            (failures,) = [e for e in at.expander if e.label == "Failed pages (1)"]
            assert "page 2: " in failures.markdown[0].value
            assert at.number_input[0].value == 1
            failures.button[0].click().run()
            assert at.number_input[0].value == 2
            assert any(e.value.startswith("Failed: ") for e in at.error)
