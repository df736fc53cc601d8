"""The Compare page on its own: the current service (the local platform's simulated engine)
against a second real server with other text (the fault server), side by side with a diff."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console._compare import Comparisons
from console._identity import Identity, Role
from console.golden import GoldenDocument, GoldenStore
from console.service import Operations
from tests.console.jobs.conftest import wait_until
from tests.console.ui.views.console_ops import app, installed_operations, page
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import png, tiff_pages
from tests.fakes.local_server import free_port

SIMULATED_TEXT = "This text stands in for the OCR of one page."


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path) as operations:
        yield operations


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def _compare(at: AppTest, url: str) -> AppTest:
    at.text_input(key="cmp_url").input(url)
    return at.run().button(key="cmp_start").click().run()


def _finished(at: AppTest, operations: Operations) -> AppTest:
    comparisons = Comparisons(operations.store)
    (pair,) = comparisons.recent()
    assert wait_until(lambda: comparisons.finished(pair), timeout_s=60)
    return at.run()


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_both_sides_and_their_diff_are_shown_per_page(
    operations: Operations, fault: FaultServer
) -> None:
    at = page("compare").run()
    at.file_uploader(key="cmp_files").set_value(
        ("two.tif", tiff_pages(["#ffffff", "#000000"]), "image/tiff")
    )
    at = _finished(_compare(at, fault.base_url), operations)
    assert not at.exception
    assert [s.value for s in at.subheader] == ["two.tif · page 1", "two.tif · page 2"]
    shown = _markdown(at)
    assert shown.count(SIMULATED_TEXT) >= 2  # the current service's text, each page
    assert "page #ffffff" in shown and "page #000000" in shown  # the other endpoint's
    assert "<del>simulated</del>" in shown  # words only the left read
    assert "<u>#ffffff</u>" in shown  # and words only the right read
    captions = " ".join(c.value for c in at.caption)
    assert " s · 100 + " in captions  # latency and tokens of the fault server's side


def test_a_golden_set_side_is_scored_against_its_text(
    operations: Operations, fault: FaultServer
) -> None:
    GoldenStore(operations.store).register(
        "white",
        [GoldenDocument("white.png", png("white"), "page #ffffff", "white.txt")],
        actor="qa",
        source="test",
    )
    at = page("compare").run()
    at.radio(key="cmp_source").set_value("A golden set").run()
    at = _finished(_compare(at, fault.base_url), operations)
    captions = " ".join(c.value for c in at.caption)
    assert "CER 0.000" in captions  # the fault server says exactly the expected text


def test_a_side_that_failed_pages_is_red_and_incomplete(
    operations: Operations, fault: FaultServer
) -> None:
    fault.faults.fail_colour, fault.faults.fail_colour_status = "#000000", 400
    at = page("compare").run()
    at.file_uploader(key="cmp_files").set_value(
        ("two.tif", tiff_pages(["#ffffff", "#000000"]), "image/tiff")
    )
    at = _finished(_compare(at, fault.base_url), operations)
    [verdict] = [e.value for e in at.error if "Incomplete" in e.value]
    assert "right: read 1 of 2 pages, 1 failed." in verdict
    assert "left: read 2 of 2 pages." in verdict
    assert not [s.value for s in at.success if s.value.startswith("Complete")]


def test_a_comparison_that_read_every_page_says_complete(
    operations: Operations, fault: FaultServer
) -> None:
    at = page("compare").run()
    at.file_uploader(key="cmp_files").set_value(("one.tif", tiff_pages(["#ffffff"]), "image/tiff"))
    at = _finished(_compare(at, fault.base_url), operations)
    [verdict] = [s.value for s in at.success if s.value.startswith("Complete")]
    assert "right: read 1 of 1 pages." in verdict


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "must be an http:// or https:// URL"),
        ("http://127.0.0.1:{port}", "cannot reach"),
    ],
)
def test_a_bad_other_url_is_a_clear_error_and_starts_nothing(
    operations: Operations, url: str, message: str
) -> None:
    at = page("compare").run()
    at.file_uploader(key="cmp_files").set_value(("a.png", png(), "image/png"))
    at = _compare(at, url.format(port=free_port()))
    assert not at.exception
    assert message in at.error[0].value.replace("\\", "")
    assert Comparisons(operations.store).recent() == []


def test_a_viewer_cannot_start_a_comparison(operations: Operations, monkeypatch) -> None:
    monkeypatch.setenv("LIGHTONOCR_IDENTITY", "iap")
    monkeypatch.setenv("LIGHTONOCR_IAP_AUDIENCE", "/projects/1/locations/r/services/console")
    at = page("compare")
    viewer = Identity("qa@bank.example", Role.VIEWER, "iap")
    at.session_state["_identity"] = (hashlib.sha256(b"").hexdigest(), viewer)
    at.run()
    assert not at.exception
    assert "cmp_start" not in {button.key for button in at.button}
    assert any("needs the operator role" in info.value for info in at.info)


def test_the_page_is_in_the_navigation(operations: Operations) -> None:
    at = app().run()
    at.switch_page("views/compare.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Compare"]
