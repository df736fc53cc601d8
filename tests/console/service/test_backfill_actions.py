"""The door's backfill actions: cancel, retry of the failed documents, open one in the
workbench. A real backfill of a folder (a good PDF and a corrupt one) is run by a real task
against the simulated local server; the retry's task is a real process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from console._identity import Identity, PermissionDenied, Role
from console.backfill import Manifest, backfill_status, freeze, load, location
from console.backfill._control import NothingToRetry
from console.backfill._manifest import cancel_requested
from console.backfill._registry import record_backfill, recorded_backfills
from console.service import Operations
from console.service._backfill_actions import UnknownBackfill
from tests.console.backfill.conftest import run_one_task
from tests.console.jobs.conftest import make_pdf
from tests.console.local_platform import local_platforms
from tests.fakes.local_server import LocalServer
from tests.waits import wait_until

OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")
VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")


@dataclass
class Backfilled:
    operations: Operations
    manifest: Manifest
    dest: Path
    env: dict[str, str]

    @property
    def backfill_id(self) -> str:
        return self.manifest.backfill_id


@pytest.fixture
def backfilled(tmp_path: Path, simulated_server: LocalServer) -> Iterator[Backfilled]:
    source, dest = tmp_path / "scans", tmp_path / "out"
    source.mkdir()
    (source / "good.pdf").write_bytes(make_pdf(1))
    (source / "corrupt.pdf").write_bytes(b"%PDF-1.7\n not a PDF at all")
    manifest = freeze(location(str(source)), location(str(dest), create=True))
    run_one_task(manifest, simulated_server.base_url)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    with local_platforms(tmp_path / "console") as make:
        platform = make()
        operations = Operations(platform, platform.store, actor="local-user")
        record_backfill(platform.store, manifest, actor="seed", where="1 local task")
        yield Backfilled(operations, manifest, dest, env)


def _audited(operations: Operations, action: str) -> list[str]:
    return [r.actor for r in operations.audit_log(100) if r.action == action]


def test_the_backfill_ran_one_document_and_failed_the_corrupt_one(backfilled: Backfilled) -> None:
    status = backfill_status(location(str(backfilled.dest)), backfilled.backfill_id)
    assert (status.done, [f.document for f in status.failed]) == (1, ["corrupt.pdf"])


def test_cancel_writes_the_marker_every_task_reads_and_is_audited(
    backfilled: Backfilled,
) -> None:
    backfilled.operations.cancel_backfill(backfilled.backfill_id, identity=OPERATOR)
    assert cancel_requested(location(str(backfilled.dest)), backfilled.backfill_id)
    assert _audited(backfilled.operations, "cancel backfill") == [OPERATOR.name]


def test_a_viewer_can_neither_cancel_nor_retry_and_nothing_is_written(
    backfilled: Backfilled,
) -> None:
    with pytest.raises(PermissionDenied):
        backfilled.operations.cancel_backfill(backfilled.backfill_id, identity=VIEWER)
    with pytest.raises(PermissionDenied):
        backfilled.operations.retry_backfill(backfilled.backfill_id, identity=VIEWER)
    dest = location(str(backfilled.dest))
    assert not cancel_requested(dest, backfilled.backfill_id)
    assert [r.backfill_id for r in recorded_backfills(backfilled.operations.store)] == [
        backfilled.backfill_id
    ]


def test_a_retry_is_a_new_backfill_of_only_the_failed_documents_run_by_real_tasks(
    backfilled: Backfilled,
) -> None:
    new_id = backfilled.operations.retry_backfill(
        backfilled.backfill_id, identity=OPERATOR, tasks=1, env=backfilled.env
    )
    dest = location(str(backfilled.dest))
    retry = load(dest, new_id)
    assert (retry.retry_of, [e.name for e in retry.entries]) == (
        backfilled.backfill_id,
        ["corrupt.pdf"],
    )
    assert new_id in [r.backfill_id for r in recorded_backfills(backfilled.operations.store)]
    # Its task reads the corrupt document again and records why it failed, again.
    assert wait_until(lambda: backfill_status(dest, new_id).failed)
    assert _audited(backfilled.operations, "retry backfill") == [OPERATOR.name]


def test_a_backfill_with_nothing_failed_has_nothing_to_retry(
    backfilled: Backfilled, simulated_server: LocalServer
) -> None:
    (backfilled.dest.parent / "scans" / "corrupt.pdf").unlink()
    clean = freeze(location(str(backfilled.dest.parent / "scans")), location(str(backfilled.dest)))
    run_one_task(clean, simulated_server.base_url)
    record_backfill(backfilled.operations.store, clean, actor="seed", where="1 local task")
    with pytest.raises(NothingToRetry):
        backfilled.operations.retry_backfill(clean.backfill_id, identity=OPERATOR)


def test_one_document_of_a_backfill_opens_as_a_job_in_the_workbench(
    backfilled: Backfilled,
) -> None:
    job_id = backfilled.operations.open_backfill_document(
        backfilled.backfill_id, "good.pdf", identity=OPERATOR
    )
    [document] = backfilled.operations.jobs.documents(job_id)
    assert document.filename == "good.pdf"
    assert backfilled.backfill_id in backfilled.operations.jobs.job(job_id).name


def test_an_unknown_backfill_is_a_typed_error(backfilled: Backfilled) -> None:
    with pytest.raises(UnknownBackfill, match="no backfill nope"):
        backfilled.operations.cancel_backfill("nope", identity=OPERATOR)


def test_a_team_console_refuses_a_backfill_action_without_a_signed_in_operator(
    backfilled: Backfilled,
) -> None:
    backfilled.operations.identity_required = True
    with pytest.raises(PermissionDenied, match="needs a signed-in operator"):
        backfilled.operations.cancel_backfill(backfilled.backfill_id)
    assert not cancel_requested(location(str(backfilled.dest)), backfilled.backfill_id)
