"""The Quality page on its own, on the real local platform (simulated engine): register a
zip, run a golden set through the process's runner, read the scores; roles enforced."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from console._identity import Identity, Role
from console.golden import DocumentScore, GoldenStore
from console.service import Operations
from console.ui._state import get_operations
from tests.console.golden.conftest import EXAMPLES, make_zip
from tests.console.jobs.conftest import wait_until
from tests.console.ui.views.console_ops import app, installed_operations, page

PHOTO = {
    "photo/phototest.tif": (EXAMPLES / "phototest.tif").read_bytes(),
    "photo/phototest.txt": (EXAMPLES / "phototest.txt").read_bytes(),
}


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path / "console") as operations:
        yield operations


def _charts(node: Any) -> list[Any]:
    found = [node] if getattr(node, "type", None) == "vega_lite_chart" else []
    for child in getattr(node, "children", {}).values():
        found += _charts(child)
    return found


def _register(at: AppTest, name: str, files: dict[str, bytes]) -> AppTest:
    at.text_input(key="q_name").input(name)
    at.file_uploader(key="q_zip").set_value(("set.zip", make_zip(files), "application/zip"))
    at.run()
    return at.button(key="q_register").click().run()


def _run_and_wait(at: AppTest, operations: Operations) -> AppTest:
    at.button(key="q_run").click().run()
    assert not at.exception
    jobs = get_operations().jobs
    assert wait_until(lambda: not jobs.jobs()[0].active)
    return at.run()


def test_a_zip_is_registered_and_its_unmatched_files_are_named(operations: Operations) -> None:
    at = page("quality").run()
    assert any("No golden set yet" in info.value for info in at.info)
    at = _register(at, "photo", {**PHOTO, "photo/extra.pdf": b"%PDF-1.4"})
    assert not at.exception
    assert "Registered photo: 1 documents" in at.success[0].value
    shown = [w.value.replace("\\", "") for w in at.warning]  # markdown escapes dropped
    assert any("extra.pdf: no expected text beside it" in w for w in shown)
    assert [s.name for s in GoldenStore(operations.store).sets()] == ["photo"]


def test_a_zip_that_escapes_itself_is_refused_on_the_page(operations: Operations) -> None:
    at = _register(page("quality").run(), "evil", {"../a.txt": b"x", "a.png": b"\x89PNG"})
    assert not at.exception
    assert "outside itself" in at.error[0].value
    assert GoldenStore(operations.store).sets() == []


def test_running_a_set_shows_its_scores_by_revision(operations: Operations) -> None:
    at = _register(page("quality").run(), "photo", PHOTO)
    at = _run_and_wait(at, operations)
    assert not at.exception
    (run,) = GoldenStore(operations.store).runs("photo")
    assert run.scored and run.revision  # the local platform's process
    scores = at.dataframe[-1].value  # sets, runs, then scores
    assert list(scores["document"]) == ["phototest.tif"] and scores["CER"][0] > 0.5
    assert "no regression" in at.success[-1].value
    (chart,) = _charts(at.main)  # CER by revision: the run's line for the document
    frame = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    assert run.revision in " ".join(map(str, frame.to_numpy().ravel()))


def test_a_cer_rise_over_the_margin_is_flagged_on_the_page(operations: Operations) -> None:
    at = _register(page("quality").run(), "photo", PHOTO)
    golden = GoldenStore(operations.store)
    # An earlier revision that read the scan perfectly (as a real engine nearly does).
    earlier = golden.add_run(
        golden.get("photo"),
        job_id=0,
        service_url="http://old",
        revision="old-rev",
        actor="qa",
        margin=0.02,
    )
    golden.finish_run(
        earlier, [DocumentScore("phototest.tif", 0.0, 0.0, 1, 0)], revision="old-rev", error=None
    )
    at = _run_and_wait(at, operations)
    assert any("Regression in run" in e.value and "phototest.tif" in e.value for e in at.error)
    scores = at.dataframe[-1].value  # sets, runs, then scores
    flagged = scores[scores["regression"] == "REGRESSION"]
    assert list(flagged["document"]) == ["phototest.tif"] and flagged["previous CER"].iloc[0] == 0


def test_a_viewer_sees_scores_but_no_register_or_run(operations: Operations, monkeypatch) -> None:
    monkeypatch.setenv("LIGHTONOCR_IDENTITY", "iap")
    monkeypatch.setenv("LIGHTONOCR_IAP_AUDIENCE", "/projects/1/locations/r/services/console")
    at = page("quality")
    viewer = Identity("qa@bank.example", Role.VIEWER, "iap")
    at.session_state["_identity"] = (hashlib.sha256(b"").hexdigest(), viewer)
    at.run()
    assert not at.exception
    assert not {"q_register", "q_run"} & {button.key for button in at.button}
    assert any("needs the operator role" in info.value for info in at.info)


def test_the_page_is_in_the_navigation(operations: Operations) -> None:
    at = app().run()
    assert not at.exception
    at.switch_page("views/quality.py").run()
    assert [t.value for t in at.title] == ["Quality"]


def test_a_run_that_read_nothing_is_red_and_incomplete_not_green(operations: Operations) -> None:
    at = _register(page("quality").run(), "photo", PHOTO)
    golden = GoldenStore(operations.store)
    failed = golden.add_run(
        golden.get("photo"),
        job_id=0,
        service_url="http://down",
        revision="rev-9",
        actor="qa",
        margin=0.02,
    )
    unread = "1 of 1 pages not read: page 1: RequestTimeout: no answer in 120 s"
    golden.finish_run(
        failed,
        [DocumentScore("phototest.tif", None, None, 1, 1, unread)],
        revision="rev-9",
        error=None,
    )
    at.run()
    assert not at.exception
    assert not any("no regression" in s.value for s in at.success)
    [shown] = [e.value for e in at.error if "incomplete" in e.value]
    assert "0 of 1 pages were read" in shown and "RequestTimeout" in shown
    runs = at.dataframe[1].value  # sets, then runs
    assert list(runs["state"]) == ["incomplete"] and list(runs["pages read"]) == ["0 / 1"]


def test_a_set_is_updated_and_removed_on_the_page_after_a_confirmation(
    operations: Operations,
) -> None:
    at = _register(page("quality").run(), "photo", PHOTO)
    golden = GoldenStore(operations.store)
    before = golden.contents_digest(golden.get("photo").id)
    changed = {**PHOTO, "photo/phototest.txt": b"This is a lot of 12 point text."}
    at.file_uploader(key="q_update_zip").set_value(
        ("new.zip", make_zip(changed), "application/zip")
    )
    at = at.run().button(key="q_update").click().run()
    assert "Updated photo: 1 documents" in at.success[-1].value
    assert golden.contents_digest(golden.get("photo").id) != before
    at = at.button(key="q_remove").click().run()
    assert golden.find("photo") is not None  # asked first
    at = at.button(key="q_rm_confirm").click().run()
    assert not at.exception and golden.find("photo") is None
    assert any("Removed photo with its 0 runs" in s.value for s in at.success)
    actions = [(r.action, r.ok) for r in operations.audit_log(10)]
    assert ("remove golden set", True) in actions and ("update golden set", True) in actions
