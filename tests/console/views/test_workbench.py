"""The OCR workbench page on its own, against the real local server (simulated engine)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from console._operations import Operations
from tests.console.views.console_ops import installed_operations, page
from tests.fakes.fault_server import FaultServer, tiff_pages

# The simulated engine's answer names the page size it was sent.
SIMULATED_TEXT = "This text stands in for the OCR of one page."


def _upload(at: AppTest, name: str, data: bytes, mime: str = "application/pdf") -> AppTest:
    at.file_uploader[0].set_value((name, data, mime))
    return at.run()


def _plain(markdown: str) -> str:
    """Text as the reader sees it: the page escapes markdown in names and messages."""
    return markdown.replace("\\", "")


def _errors(at: AppTest) -> list[str]:
    return [_plain(e.value) for e in at.error]


def _warnings(at: AppTest) -> list[str]:
    return [_plain(w.value) for w in at.warning]


def test_uploaded_pdf_shows_its_text_beside_the_page_image(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "four.pdf", (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes())
    assert not at.exception
    assert at.image[0].captions == ["Page 1 of 4"]
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)
    assert "4 pages · 4 read · 0 failed" in at.caption[0].value


def test_page_navigation_moves_through_a_long_document(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "four.pdf", (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes())
    at.button(key="wb_next").click().run()
    assert at.image[0].captions == ["Page 2 of 4"]
    at.number_input[0].set_value(4).run()
    assert at.image[0].captions == ["Page 4 of 4"]
    assert at.button(key="wb_next").disabled


def test_each_page_shows_latency_tokens_attempts_and_origin(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    [facts] = [m.value for m in at.markdown if "latency" in m.value]
    assert facts.startswith(":blue-badge[scanned] · :violet-badge[source: OCR] · latency **")
    assert " s** · tokens **" in facts
    assert facts.endswith(" out · **1** attempt · not truncated")
    prompt = int(facts.split("tokens **")[1].split("**")[0])
    completion = int(facts.split("in / **")[1].split("**")[0])
    assert prompt > 0 and completion > 0


def test_a_one_page_document_is_summarised_as_one_page_not_one_pages(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    assert at.caption[0].value.startswith("1 page · 1 read · 0 failed")


def test_clear_batch_is_offered_as_soon_as_the_first_file_is_read(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    assert not [b for b in at.button if b.key == "wb_clear"]
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    at.button(key="wb_clear").click().run()
    assert not any(SIMULATED_TEXT in m.value for m in at.markdown)
    assert not at.file_uploader[0].value


def test_pdf_pages_go_to_the_ocr_model_unless_the_text_layer_is_chosen(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    assert at.toggle(key="wb_text_layer").value is False
    _upload(at, "minimal.pdf", (corpus / "pdf" / "minimal-document.pdf").read_bytes())
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)
    assert any(":violet-badge[source: OCR]" in m.value for m in at.markdown)


def test_the_text_layer_toggle_reads_digital_pages_from_the_pdf_itself(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    at.toggle(key="wb_text_layer").set_value(True).run()
    _upload(at, "minimal.pdf", (corpus / "pdf" / "minimal-document.pdf").read_bytes())
    assert not at.exception
    assert any("Lorem ipsum dolor sit amet" in m.value for m in at.markdown)
    assert not any(SIMULATED_TEXT in m.value for m in at.markdown)
    assert any(":green-badge[source: PDF text layer, not OCR]" in m.value for m in at.markdown)


def test_digital_pdf_pages_are_badged_as_having_a_text_layer(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "minimal.pdf", (corpus / "pdf" / "minimal-document.pdf").read_bytes())
    assert any("digital (text layer)" in m.value for m in at.markdown)


def test_raw_text_toggle_shows_the_models_output_verbatim(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    at.toggle(key="wb_raw").set_value(True).run()
    assert SIMULATED_TEXT in at.code[0].value


def test_downloads_are_offered_per_document_and_for_the_batch(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    labels = [d.label for d in at.download_button]
    assert labels == ["Markdown", "Text", "JSON", "Whole batch (.zip)"]


def test_a_text_file_renamed_pdf_gets_a_clear_error_naming_it(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "statement [final].pdf", (corpus / "scans" / "phototest.txt").read_bytes())
    assert not at.exception
    [error] = _errors(at)
    assert "**statement \\[final\\].pdf**" in at.error[0].value  # shown, never interpreted
    assert "plain text" in error
    assert "PDF, TIFF, PNG, JPEG or WebP" in error


def test_a_truncated_pdf_gets_a_clear_error(operations: Operations, corpus: Path) -> None:
    data = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    at = page("workbench").run()
    _upload(at, "cut.pdf", data[: len(data) // 2])
    assert not at.exception
    [error] = _errors(at)
    assert "cut.pdf" in error and "damaged or truncated" in error


def test_an_empty_file_gets_a_clear_error(operations: Operations) -> None:
    at = page("workbench").run()
    _upload(at, "blank.png", b"", "image/png")
    assert not at.exception
    assert any("blank.png" in e and "is empty" in e for e in _errors(at))


def test_an_encrypted_pdf_asks_for_its_password_and_opens_with_it(
    operations: Operations, corpus: Path
) -> None:
    at = page("workbench").run()
    _upload(at, "locked.pdf", (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes())
    assert not at.exception
    assert "password-protected" in _warnings(at)[0]
    at.text_input[0].set_value("openpassword")
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Unlock")].click().run()
    assert all("password" not in w for w in _warnings(at))
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)


def test_the_password_field_is_named_with_the_file_name_as_uploaded(
    operations: Operations, corpus: Path
) -> None:
    """Its label is the accessible name (not rendered markdown): no escaping backslashes."""
    name = "locked_[v2]-final.pdf"
    at = page("workbench").run()
    _upload(at, name, (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes())
    [password] = at.text_input
    assert password.label == f"Password for {name}"
    assert password.placeholder == f"Password for {name}"


def test_a_wrong_password_says_so(operations: Operations, corpus: Path) -> None:
    at = page("workbench").run()
    _upload(at, "locked.pdf", (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes())
    at.text_input[0].set_value("guess")
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Unlock")].click().run()
    assert "password given is wrong" in _warnings(at)[0]


def test_results_survive_a_visit_to_another_page(operations: Operations, corpus: Path) -> None:
    at = page("workbench").run()
    _upload(at, "phototest.tif", (corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    at.file_uploader[0].set_value(None).run()  # what Streamlit does to it on navigation
    assert any(SIMULATED_TEXT in m.value for m in at.markdown)
    at.button(key="wb_clear").click().run()
    assert not any(SIMULATED_TEXT in m.value for m in at.markdown)


def test_a_failed_page_shows_its_error_and_retries_alone(tmp_path: Path) -> None:
    red, white = "#ff0000", "#ffffff"
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = red, 400
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = page("workbench").run()
            _upload(at, "two.tif", tiff_pages([red, white]), "image/tiff")
            assert not at.exception
            assert "1 failed" in at.caption[0].value
            assert any("cannot read page" in e for e in _errors(at))
            server.faults.fail_colour = None
            at.button(key=next(b.key for b in at.button if b.label == "Retry page")).click().run()
            assert not _errors(at)
            assert any(f"page {red}" in m.value for m in at.markdown)
            at.button(key="wb_next").click().run()
            assert any(f"page {white}" in m.value for m in at.markdown)


def test_a_truncated_page_is_flagged(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.faults.finish_reason = "length"
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = page("workbench").run()
            _upload(at, "long.tif", tiff_pages(["#ffffff"]), "image/tiff")
            assert "1 truncated" in at.caption[0].value
            assert any(m.value.endswith(":orange-badge[truncated]") for m in at.markdown)
            assert "token limit" in _warnings(at)[0]


def test_all_failed_pages_can_be_retried_at_once(tmp_path: Path) -> None:
    red, blue, white = "#ff0000", "#0000ff", "#ffffff"
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = red, 400
        port = int(server.base_url.rsplit(":", 1)[1])
        with installed_operations(tmp_path, port=port):
            at = page("workbench").run()
            _upload(at, "three.tif", tiff_pages([red, white, red]), "image/tiff")
            assert "2 failed" in at.caption[0].value
            assert "Failed pages: 1, 3." in _warnings(at)[0]
            server.faults.fail_colour = blue
            at.button(key="wb_retry_failed").click().run()
            assert not at.exception
            assert "3 read · 0 failed" in at.caption[0].value


def test_a_stopped_service_is_pointed_out_before_uploading(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0):
        at = page("workbench").run()
        assert "down (scaled to zero)" in _warnings(at)[0]
        assert "Service page" in _warnings(at)[0]
