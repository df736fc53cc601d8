"""The Backfills view's buttons, each through the door: cancel (asked twice), retry the
failed documents, open a failed document in the workbench; a viewer sees none of them. The
backfills are real: frozen from a folder, run by a real task against the simulated server."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.backfill import Manifest, freeze, location
from console.backfill._manifest import cancel_requested
from console.backfill._registry import record_backfill
from console.service import Operations
from tests.console.backfill.conftest import run_one_task
from tests.console.jobs.conftest import make_pdf
from tests.console.ui.views.console_ops import as_viewer, installed_operations, page
from tests.fakes.local_server import LocalServer


def _frozen(tmp_path: Path, operations: Operations) -> Manifest:
    """A backfill of a good and a corrupt PDF, frozen and listed, no task run yet."""
    source, dest = tmp_path / "scans", tmp_path / "out"
    source.mkdir()
    (source / "good.pdf").write_bytes(make_pdf(1))
    (source / "corrupt.pdf").write_bytes(b"%PDF-1.7\n not a PDF at all")
    manifest = freeze(location(str(source)), location(str(dest), create=True))
    record_backfill(operations.store, manifest, actor="seed", where="1 local task")
    return manifest


def _buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_cancel_is_asked_twice_then_written_for_every_task_and_audited(tmp_path: Path) -> None:
    with installed_operations(tmp_path / "data", worker=False, default_floor=0) as operations:
        manifest = _frozen(tmp_path, operations)
        at = page("backfills").run()
        at.button(key=f"bf_cancel_{manifest.backfill_id}").click().run()
        assert not cancel_requested(location(manifest.dest), manifest.backfill_id)  # asked
        at.button(key=f"bf_cancel_box_{manifest.backfill_id}_confirm").click().run()

        assert not at.exception
        assert cancel_requested(location(manifest.dest), manifest.backfill_id)
        assert [r.action for r in operations.audit_log(10)][:1] == ["cancel backfill"]
        assert any("cancel requested" in c.value for c in at.caption)
        assert "Cancel backfill" not in _buttons(at)  # asked once is enough


def test_a_failed_document_opens_as_a_job_in_the_workbench(
    tmp_path: Path, simulated_server: LocalServer
) -> None:
    with installed_operations(tmp_path / "data", worker=False, default_floor=0) as operations:
        manifest = _frozen(tmp_path, operations)
        run_one_task(manifest, simulated_server.base_url)
        at = page("backfills").run()
        assert "Retry 1 failed" in _buttons(at)
        assert "Cancel backfill" not in _buttons(at)  # nothing is left to cancel
        assert at.selectbox(key=f"bf_doc_{manifest.backfill_id}").options == ["corrupt.pdf"]

        at.button(key=f"bf_open_{manifest.backfill_id}").click().run()

        assert not at.exception
        [job] = operations.jobs.jobs()
        assert job.name == f"corrupt.pdf ({manifest.backfill_id})"
        assert [r.action for r in operations.audit_log(10)][:1] == ["start job"]
        assert at.success[0].value == f"opened as job {job.id}\\: the workbench shows it"


def test_a_viewer_sees_the_backfill_but_no_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with installed_operations(tmp_path / "data", worker=False, default_floor=0) as operations:
        _frozen(tmp_path, operations)
        at = as_viewer(page("backfills"), monkeypatch).run()
        assert not at.exception
        assert [m.label for m in at.metric][:1] == ["documents"]
        assert _buttons(at) == []
