"""The workbench measuring pages against ground truth, and reading pages again, on the real
page (AppTest) with the real runner and a real OCR server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from console.service import Operations
from console.ui._state import get_operations
from tests.console.jobs.conftest import wait_until
from tests.console.ui.views.console_ops import installed_operations, page
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import tiff_pages


def _start(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader[0].set_value(list(files))
    at.run()
    at.toggle(key="wb_locate_words").set_value(False).run()  # not what these tests are about
    at.button(key="wb_start").click().run()
    assert not at.exception
    jobs = get_operations().jobs
    assert wait_until(lambda: not jobs.jobs()[0].active, timeout_s=180)
    return at.run()


def _tiff(name: str, data: bytes) -> tuple[str, bytes, str]:
    return (name, data, "image/tiff")


def _text(name: str, data: bytes) -> tuple[str, bytes, str]:
    return (name, data, "text/plain")


def _plain(markdown: str) -> str:
    return markdown.replace("\\", "")


def _shown(at: AppTest) -> str:
    """Every message, caption and markdown on the page, as one text."""
    parts = [m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error]]
    return _plain("\n".join(parts))


@contextmanager
def _on_fault_server(tmp_path: Path, server: FaultServer) -> Iterator[Operations]:
    port = int(server.base_url.rsplit(":", 1)[1])
    with installed_operations(tmp_path, port=port) as operations:
        yield operations


def test_a_scan_uploaded_with_its_reference_shows_scores_and_a_word_diff(
    tmp_path: Path,
) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(
            page("workbench").run(),
            _tiff("card.tif", tiff_pages(["#ffffff"])),
            _text("card.txt", b"page #ffffff and more"),
        )
        metrics = {m.label: m.value for m in at.metric}
        # "page #ffffff" against "page #ffffff and more": 2 of 4 words lost.
        assert metrics["WER"] == "50.0%"
        assert metrics["Mean WER"] == "50.0%" and metrics["Scored"] == "1"
        assert any("page #ffffff <del>and more</del>" in m.value for m in at.markdown)
        [scores] = [d.value for d in at.dataframe if "CER" in d.value.columns]
        assert list(scores["reference"]) == ["card.txt"]


def test_bad_references_each_get_a_message_and_nothing_breaks(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(
            page("workbench").run(),
            _tiff("a.tif", tiff_pages(["#ffffff"])),
            _tiff("b.tif", tiff_pages(["#ff0000"])),
            _text("a.txt", "page #ffffff café".encode("cp1252")),
            _text("b.txt", b"   \n"),
            _text("stray.txt", b"no scan has this name"),
            _text("c.md", "x".encode("utf-16-le")),
        )
        assert not at.exception
        shown = _shown(at)
        assert "a.txt is not UTF-8: read as Windows-1252" in shown
        assert "b.txt is empty: there is nothing to score against" in shown
        assert "stray.txt matches no scan of this job" in shown
        assert "c.md matches no scan" in shown
        assert any(m.label == "CER" for m in at.metric)  # a.txt was attached and scored


def test_a_failed_page_with_a_reference_says_why_it_has_no_score(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.faults.fail_colour, server.faults.fail_colour_status = "#ff0000", 400
        with _on_fault_server(tmp_path, server):
            at = _start(
                page("workbench").run(),
                _tiff("red.tif", tiff_pages(["#ff0000"])),
                _text("red.txt", b"what the page says"),
            )
            assert not at.exception
            shown = _shown(at)
            assert "This page failed, so it has no score: retry it to score it." in shown
            assert "red.tif page 1 failed: not scored." in shown
            assert not [m for m in at.metric if m.label == "CER"]


def test_a_reference_pasted_on_the_page_is_scored(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(page("workbench").run(), _tiff("one.tif", tiff_pages(["#ffffff"])))
        assert not [m for m in at.metric if m.label == "CER"]
        [box] = [t for t in at.text_area if t.key.startswith("wb_ref_text_")]
        box.set_value("page #ffffff").run()
        at.button(key=next(b.key for b in at.button if b.label == "Save reference")).click()
        at.run()
        metrics = {m.label: m.value for m in at.metric}
        assert (metrics["CER"], metrics["WER"]) == ("0.0%", "0.0%")
        assert "pasted by" in _shown(at)


def test_an_empty_paste_is_refused_with_a_message(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(page("workbench").run(), _tiff("one.tif", tiff_pages(["#ffffff"])))
        at.button(key=next(b.key for b in at.button if b.label == "Save reference")).click()
        at.run()
        assert "The reference is empty: paste the page's text first." in _shown(at)


def test_a_page_is_read_again_with_the_sampling_chosen_on_the_page(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(page("workbench").run(), _tiff("one.tif", tiff_pages(["#ffffff"])))
        key = next(n.key for n in at.number_input if n.key.startswith("wb_temperature_"))
        suffix = key.removeprefix("wb_temperature_")
        at.number_input(key=key).set_value(1.2)
        at.number_input(key=f"wb_max_tokens_{suffix}").set_value(1000)
        at.button(key=f"wb_rerun_{suffix}").click().run()
        jobs = get_operations().jobs

        def read_again() -> bool:
            return len(server.chat_requests()) == 2 and not jobs.jobs()[0].active

        assert wait_until(read_again)
        at.run()
        again = server.chat_requests()[1].body
        assert (again["temperature"], again["max_tokens"]) == (1.2, 1000)
        assert again["repetition_penalty"] == 1.1
        assert "re-run with temperature 1.2, repetition penalty 1.1, max tokens 1000" in (
            _shown(at)
        )


def test_runaway_pages_get_a_badge_and_the_job_counts_them(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.script("loop")
        with _on_fault_server(tmp_path, server):
            at = _start(page("workbench").run(), _tiff("one.tif", tiff_pages(["#ffffff"])))
            shown = _shown(at)
            assert ":orange-badge[asked again: repetition]" in shown
            assert at.dataframe[0].value["pages"][0] == "1 / 1 pages · 1 asked again (runaway)"


def test_doubtful_words_are_underlined_in_the_page_text(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.faults.doubtful_words = {"#ffffff"}
        with _on_fault_server(tmp_path, server):
            at = _start(page("workbench").run(), _tiff("one.tif", tiff_pages(["#ffffff"])))
            assert any("page <u>#ffffff</u>" in m.value for m in at.markdown)


def test_a_job_with_doubtful_pages_opens_the_pages_to_check_first(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        server.faults.doubtful_words = {"#ffffff"}
        at = _start(page("workbench").run(), _tiff("two.tif", tiff_pages(["#ff0000", "#ffffff"])))
        [to_check] = [e for e in at.expander if e.label.startswith("Pages to check first")]
        assert to_check.proto.expanded
        table = to_check.dataframe[0].value
        assert list(table["page"]) == [2, 1]  # the doubtful page first


def test_reference_texts_alone_start_no_job(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = page("workbench").run()
        at.file_uploader[0].set_value([_text("card.txt", b"truth")]).run()
        at.button(key="wb_start").click().run()
        assert "These are reference texts only: add the scans they belong to." in _shown(at)
        assert get_operations().jobs.jobs() == []


def test_a_reference_attached_after_the_start_scores_each_page(tmp_path: Path) -> None:
    with FaultServer() as server, _on_fault_server(tmp_path, server):
        at = _start(page("workbench").run(), _tiff("two.tif", tiff_pages(["#ffffff", "#ff0000"])))
        [uploader] = [u for u in at.file_uploader if u.key.startswith("wb_ref_file_")]
        truth = b"page #ffffff\fpage #ff0000 lost\fa third page"
        uploader.set_value(("truth.txt", truth, "text/plain")).run()
        at.button(key=next(b.key for b in at.button if b.label == "Attach")).click().run()
        [scores] = [d.value for d in at.dataframe if "CER" in d.value.columns]
        assert list(scores["page"]) == ["2", "1"] and list(scores["WER"]) == [0.3333, 0.0]
        assert "the reference has 3 pages and the document 2 pages" in _shown(at)
