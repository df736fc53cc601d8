"""The OCR workbench page on its own, against the real local server (simulated engine).

The page starts jobs and draws the store; the process's runner reads the pages. Each test
waits for its job in the store, then reruns the page as a user's next click would.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from console.jobs import JobStatus, NewDocument
from console.jobs._in_flight import PageInFlight, write_in_flight
from console.jobs._ledger import JobLedger
from console.jobs._models import DocumentState
from console.service import Operations
from console.ui._page_panel import MAX_SHOWN_CHARS
from console.ui._state import get_operations
from ocr_core import ClientSettings, PageResult, engine_available
from tests.console.jobs.conftest import make_pdf, wait_until
from tests.console.ui.views.console_ops import installed_operations, page
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import tiff_pages

# The simulated engine's answer names the page size it was sent.
SIMULATED_TEXT = "This text stands in for the OCR of one page."
# A few pages through the simulated engine and the sandbox: seconds idle, much more loaded.
JOB_DEADLINE_S = 180.0


def _start(at: AppTest, *files: tuple[str, bytes, str], words: bool = False) -> AppTest:
    """Upload, press Start, wait for the job in the store, and draw the page again. Words
    are located only when a test is about them: on a loaded machine locating four pages
    took longer than the whole test once waited."""
    at.file_uploader[0].set_value(list(files) if len(files) > 1 else files[0])
    at.run()
    if not words and at.toggle(key="wb_locate_words").value:
        at.toggle(key="wb_locate_words").set_value(False).run()
    at.button(key="wb_start").click().run()
    assert not at.exception
    jobs = get_operations().jobs
    assert wait_until(lambda: not jobs.jobs()[0].active, timeout_s=JOB_DEADLINE_S)
    return at.run()


def _pdf(name: str, data: bytes) -> tuple[str, bytes, str]:
    return (name, data, "application/pdf")


def _tiff(name: str, data: bytes) -> tuple[str, bytes, str]:
    return (name, data, "image/tiff")


def _plain(markdown: str) -> str:
    return markdown.replace("\\", "")


def _errors(at: AppTest) -> list[str]:
    return [_plain(e.value) for e in at.error]


def _warnings(at: AppTest) -> list[str]:
    return [_plain(w.value) for w in at.warning]


def test_a_finished_job_shows_its_text_beside_the_page_image(
    operations: Operations, corpus: Path
) -> None:
    at = _start(
        page("workbench").run(),
        _pdf("four.pdf", (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()),
    )
    assert at.image[0].captions == ["Page 1 of 4"]
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)
    assert "4 pages · 4 read · 0 failed" in at.caption[0].value


def test_the_jobs_list_shows_who_ran_what_and_how_far_it_got(
    operations: Operations, corpus: Path
) -> None:
    at = _start(
        page("workbench").run(),
        _pdf("four.pdf", (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()),
    )
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "job",
        "name",
        "who",
        "when",
        "status",
        "pages",
        "elapsed",
        "service",
        "revision",
    ]
    row = table.iloc[0]
    assert (row["name"], row["who"], row["status"], row["pages"]) == (
        "four.pdf",
        "qa-tester",
        "done",
        "4 / 4 pages",
    )
    assert row["service"] == operations.platform.service_url
    assert row["revision"].startswith("pid ")


def test_starting_is_offered_only_once_files_are_chosen(operations: Operations) -> None:
    at = page("workbench").run()
    assert at.button(key="wb_start").disabled
    at.file_uploader[0].set_value(_pdf("one.pdf", make_pdf(1))).run()
    assert not at.button(key="wb_start").disabled


def test_two_uploads_with_one_name_are_two_documents(operations: Operations) -> None:
    at = _start(
        page("workbench").run(), _pdf("scan.pdf", make_pdf(1)), _pdf("scan.pdf", make_pdf(2))
    )
    [chooser] = [s for s in at.selectbox if s.key == "wb_document"]
    assert chooser.options == ["1. scan.pdf (1 page)", "2. scan.pdf (2 pages)"]
    chooser.set_value(chooser.options and at.session_state["wb_document"] + 1).run()
    assert at.image[0].captions == ["Page 1 of 2"]


def test_a_past_job_can_be_opened_again(operations: Operations) -> None:
    at = _start(page("workbench").run(), _pdf("first.pdf", make_pdf(1)))
    _start(at, _pdf("second.pdf", make_pdf(3)))
    jobs_box = at.selectbox(key="wb_job")
    assert [label.split(" · ")[1] for label in jobs_box.options] == ["second.pdf", "first.pdf"]
    jobs_box.select_index(1).run()
    assert at.subheader[0].value == "first.pdf"
    assert "1 page · 1 read" in at.caption[0].value


def test_page_navigation_moves_through_a_long_document(operations: Operations) -> None:
    at = _start(page("workbench").run(), _pdf("long.pdf", make_pdf(4)))
    at.button(key="wb_next").click().run()
    assert at.image[0].captions == ["Page 2 of 4"]
    at.number_input[0].set_value(4).run()
    assert at.image[0].captions == ["Page 4 of 4"]
    assert at.button(key="wb_next").disabled


def test_each_page_shows_latency_tokens_attempts_and_origin(
    operations: Operations, corpus: Path
) -> None:
    at = _start(
        page("workbench").run(),
        _tiff("phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes()),
    )
    [facts] = [m.value for m in at.markdown if "latency" in m.value]
    assert facts.startswith(":blue-badge[scanned] · :violet-badge[source: OCR] · latency **")
    assert " out · **1** attempt · not truncated · read " in facts
    assert "by pid " in facts


def test_the_text_layer_toggle_reads_digital_pages_from_the_pdf_itself(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    at.toggle(key="wb_text_layer").set_value(True).run()
    _start(at, _pdf("minimal.pdf", (corpus / "pdf" / "minimal-document.pdf").read_bytes()))
    assert any("Lorem ipsum dolor sit amet" in m.value for m in at.markdown)
    assert any(":green-badge[source: PDF text layer, not OCR]" in m.value for m in at.markdown)


def test_raw_text_toggle_shows_the_models_output_verbatim(operations: Operations) -> None:
    at = _start(page("workbench").run(), _pdf("one.pdf", make_pdf(1)))
    at.toggle(key="wb_raw").set_value(True).run()
    assert SIMULATED_TEXT in at.code[0].value


def test_downloads_are_offered_per_document_and_for_the_job(operations: Operations) -> None:
    at = _start(page("workbench").run(), _pdf("one.pdf", make_pdf(1)), words=True)
    jobs = get_operations().jobs
    if engine_available():  # the words follow the text: their files once they are located
        assert wait_until(lambda: jobs.jobs()[0].words_ready, timeout_s=JOB_DEADLINE_S)
        at.run()
    words = ["Searchable PDF", "hOCR", "ALTO XML"] if engine_available() else []
    assert [d.label for d in at.download_button] == [
        "Markdown",
        "Text",
        "JSON",
        "Whole job (.zip)",
        *words,
    ]


def test_files_with_positions_wait_for_the_words_and_say_how_far_they_are(
    tmp_path: Path,
) -> None:
    # No worker: the job's text is done and no locator comes for its words.
    with installed_operations(tmp_path, worker=False, default_floor=0) as operations:
        jobs = operations.jobs
        job_id = jobs.create_job(
            [NewDocument("one.pdf", make_pdf(1))], actor="qa", service_url="", locate_words=True
        )
        (document,) = jobs.documents(job_id)
        ledger = JobLedger(jobs.store)
        assert ledger.claim(job_id, "runner-a", None)
        ledger.set_document(document.id, DocumentState.OPENED, 1)
        read = PageResult(index=0, text="read text", latency_s=0.1, attempts=1)
        ledger.save_page(job_id, document.id, read, request_id=None, revision=None, started_at=0)
        ledger.release(job_id, "runner-a", JobStatus.DONE)
        at = page("workbench").run()
        labels = [d.label for d in at.download_button]
        assert labels == ["Markdown", "Text", "JSON", "Whole job (.zip)"]
        assert any("locating words, 0 of 1 pages" in c.value for c in at.caption)


def test_a_job_that_did_not_locate_words_offers_no_files_with_positions(
    operations: Operations,
) -> None:
    at = page("workbench").run()
    at.toggle(key="wb_locate_words").set_value(False).run()
    at = _start(at, _pdf("one.pdf", make_pdf(1)))
    assert [d.label for d in at.download_button] == ["Markdown", "Text", "JSON", "Whole job (.zip)"]


def test_a_bad_file_fails_alone_with_a_clear_error(operations: Operations, corpus: Path) -> None:
    at = _start(
        page("workbench").run(),
        _pdf("statement [final].pdf", (corpus / "scans" / "phototest.txt").read_bytes()),
        _pdf("good.pdf", make_pdf(2)),
    )
    [error] = _errors(at)
    assert "**1. statement \\[final\\].pdf**" in at.error[0].value  # shown, never interpreted
    assert "plain text" in error and "PDF, TIFF, PNG, JPEG or WebP" in error
    assert "2 pages · 2 read" in at.caption[0].value


def test_an_encrypted_pdf_asks_for_its_password_and_opens_with_it(
    operations: Operations, corpus: Path
) -> None:
    name = "locked_[v2].pdf"
    at = _start(
        page("workbench").run(),
        _pdf(name, (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes()),
    )
    assert "password-protected" in _warnings(at)[0]
    [password] = at.text_input
    assert password.label == f"Password for {name}"
    password.set_value("openpassword")
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Unlock")].click().run()
    jobs = get_operations().jobs
    assert wait_until(lambda: jobs.jobs()[0].status is JobStatus.DONE)
    at.run()
    assert all("password" not in w for w in _warnings(at))
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)


def test_a_job_survives_the_session_that_started_it(operations: Operations) -> None:
    _start(page("workbench").run(), _pdf("one.pdf", make_pdf(2)))
    fresh = page("workbench").run()  # a reload or a second tab: a new session
    assert fresh.subheader[0].value == "one.pdf"
    assert "2 pages · 2 read" in fresh.caption[0].value


def test_a_failed_page_shows_its_error_and_retries_alone(tmp_path: Path) -> None:
    red, white = "#ff0000", "#ffffff"
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = red, 400
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = _start(page("workbench").run(), _tiff("two.tif", tiff_pages([red, white])))
            assert "1 failed" in at.caption[0].value
            assert any("cannot read page" in e for e in _errors(at))
            server.faults.fail_colour = None
            at.button(key=next(b.key for b in at.button if b.label == "Retry page")).click().run()
            jobs = get_operations().jobs
            assert wait_until(
                lambda: jobs.jobs()[0].pages_failed == 0 and not jobs.jobs()[0].active
            )
            at.run()
            assert not _errors(at)
            assert any(f"page {red}" in m.value for m in at.markdown)


def test_all_failed_pages_can_be_retried_at_once(tmp_path: Path) -> None:
    red, blue, white = "#ff0000", "#0000ff", "#ffffff"
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = red, 400
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = _start(page("workbench").run(), _tiff("three.tif", tiff_pages([red, white, red])))
            assert "2 failed" in at.caption[0].value
            server.faults.fail_colour = blue
            at.button(key="wb_resume").click().run()
            jobs = get_operations().jobs
            assert wait_until(
                lambda: jobs.jobs()[0].pages_failed == 0 and not jobs.jobs()[0].active
            )
            at.run()
            assert "3 read · 0 failed" in at.caption[0].value


def test_a_truncated_page_is_flagged(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.faults.finish_reason = "length"
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = _start(page("workbench").run(), _tiff("long.tif", tiff_pages(["#ffffff"])))
            assert "1 truncated" in at.caption[0].value
            assert "token limit" in _warnings(at)[0]


def test_a_long_page_is_shown_up_to_a_bound_and_says_so(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.script("long")  # 200,000 characters: within what 4,096 tokens hold
        port = int(server.base_url.rsplit(":", 1)[1])
        settings = ClientSettings(rerun_runaway=False)
        with installed_operations(tmp_path, port=port, client_settings=settings):
            at = _start(page("workbench").run(), _tiff("long.tif", tiff_pages(["#ffffff"])))
    assert f"Showing the first {MAX_SHOWN_CHARS:,} characters of 200,012." in [
        c.value for c in at.caption
    ]
    shown = [m.value for m in at.markdown if "xxxx" in m.value]
    assert len(shown) == 1 and MAX_SHOWN_CHARS <= len(shown[0]) < 2 * MAX_SHOWN_CHARS


def test_a_stopped_service_is_pointed_out_before_uploading(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0):
        at = page("workbench").run()
        assert "down (scaled to zero)" in _warnings(at)[0]
        assert "Service page" in _warnings(at)[0]


def test_a_store_that_cannot_be_written_is_reported_and_nothing_is_kept(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    engine = operations.store.engine

    @sa.event.listens_for(engine, "connect")
    def read_only(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA query_only = 1")  # type: ignore[attr-defined]

    engine.dispose()  # new connections see a store that refuses every write
    big = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    at.file_uploader[0].set_value(_pdf("four.pdf", big)).run()
    at.button(key="wb_start").click().run()
    sa.event.remove(engine, "connect", read_only)
    engine.dispose()  # writable again for the fixture's own teardown
    assert not at.exception
    [error] = _errors(at)
    assert error.startswith("The job was not started: cannot write to the console's store at ")
    objects = operations.store.objects.root  # type: ignore[attr-defined]
    assert [path for path in objects.rglob("*") if path.is_file()] == []  # its bytes removed


def test_the_job_retention_is_a_setting_kept_in_the_store(operations: Operations) -> None:
    at = page("workbench").run()
    retention = at.number_input(key="wb_retention")
    assert retention.value == 30
    retention.set_value(7).run()
    assert get_operations().jobs.retention_days() == 7


def test_a_running_job_says_what_is_in_flight_and_what_is_retried(tmp_path: Path) -> None:
    """As the worker wrote it: the page waits, the bar alone would say nothing."""
    with installed_operations(tmp_path, worker=False) as operations:
        job_id = operations.start_job([NewDocument("a.pdf", make_pdf(2))])
        since = time.time() - 95
        write_in_flight(
            operations.store,
            job_id,
            [
                PageInFlight(1, 0, since, 1),
                PageInFlight(1, 1, since + 5, 2, "RequestTimeout: no answer in 120 s"),
            ],
        )
        at = page("workbench").run()
        assert not at.exception
        [caption] = [c.value.replace("\\", "") for c in at.caption if "in flight" in c.value]
        assert caption.startswith("2 in flight, the oldest for 1 min 3")
        assert "1 retrying (page 2, attempt 2, after RequestTimeout" in caption


def test_words_on_the_page_says_why_a_job_that_did_not_locate_them_has_none(
    operations: Operations,
) -> None:
    at = page("workbench").run()
    at.toggle(key="wb_locate_words").set_value(False).run()
    at = _start(at, _pdf("one.pdf", make_pdf(1)))
    at.toggle(key="wb_words").set_value(True).run()
    assert not at.exception
    assert any("This job did not locate words" in info.value for info in at.info)
    assert at.image[0].captions == ["Page 1 of 1"]  # the scan is still shown
