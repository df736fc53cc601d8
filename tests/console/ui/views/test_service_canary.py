"""The Service page's canary button (Cloud Run on the fakes): an operator's request is judged
at once and, when the gate can judge it, written for the worker (which runs it: see
tests/console/service/test_canary_action.py); a viewer has no button."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.golden import DocumentScore, GoldenStore, load_folder
from console.jobs import JobStore, NewDocument
from console.service import Operations
from console.service._rollouts import canary_request
from console.ui._state import install_operations
from tests.console.golden.conftest import phototest_set
from tests.console.ui.views.console_ops import page
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[tuple[CloudFakes, Operations]]:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        install_operations(operations)
        try:
            yield cloud, operations
        finally:
            install_operations(None)


def test_a_canary_of_an_unknown_set_is_refused_on_the_page_and_audited(operations) -> None:
    cloud, ops = operations
    at = page("service").run()
    at.text_input(key="svc_canary_tag").set_value("c0ffee2").run()
    at.text_input(key="svc_canary_set").set_value("no-such-set").run()
    at.button(key="svc_canary").click().run()

    assert not at.exception
    assert any("Canary refused" in e.value and "no-such-set" in e.value for e in at.error)
    row = next(r for r in ops.audit_log(20) if r.action == "canary rollout")
    assert (row.actor, row.target, row.ok) == ("ops", "c0ffee2 gated by no-such-set", False)
    assert len(cloud.run.requests_for("UpdateService")) == 0


def test_a_canary_the_gate_can_judge_is_requested_for_the_worker(
    operations, tmp_path: Path
) -> None:
    cloud, ops = operations
    golden = GoldenStore(ops.store)
    documents = load_folder(phototest_set(tmp_path / "set")).documents
    golden.register("photo", documents, actor="qa", source="test")
    job = JobStore(ops.store).create_job([NewDocument("a.tif", b"x")], actor="qa", service_url="s")
    run = golden.add_run(
        golden.get("photo"),
        job_id=job,
        service_url="s",
        revision=cloud.revision,
        actor="qa",
        margin=0.02,
    )
    golden.finish_run(
        run, [DocumentScore("phototest.tif", 0.01, 0.01, 1, 0)], revision=cloud.revision, error=None
    )
    at = page("service").run()
    at.text_input(key="svc_canary_tag").set_value("c0ffee2").run()
    at.text_input(key="svc_canary_set").set_value("photo").run()
    at.button(key="svc_canary").click().run()

    assert not at.exception
    assert any("requested (#1)" in s.value for s in at.success)
    request = canary_request(ops.store, 1)
    assert request is not None and (request.state, request.actor) == ("queued", "ops")
    assert len(cloud.run.requests_for("UpdateService")) == 0  # the worker runs it, not the page
