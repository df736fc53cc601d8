"""The canary as the Service page's audited action, on the Cloud Run platform over the fake
Run and Logging servers, with the real local OCR server (rapidocr) as both revisions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console._identity import Identity, Role
from console._store import Store
from console.golden import GoldenStore, load_folder, start_run, wait_for_run
from console.golden._gate import CanaryRefused
from console.jobs import JobRunner, JobStore
from console.runtime import Runtime
from console.service import Operations
from console.service._canary_action import canary_rollout, request_canary_rollout
from console.service._rollouts import RolloutBusy, canary_request, rollout_lock
from console.worker import Worker
from ocr_core import ClientSettings, OCRClient
from tests.console.golden.conftest import phototest_set
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes
from tests.fakes.google_logging import entry
from tests.fakes.local_server import LocalServer
from tests.waits import eventually

OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")
STARTUP = [
    "INFO 12-05 03:01:02 [__init__.py:216] Automatically detected platform cuda.",
    "INFO 12-05 03:01:41 [gpu_model_runner.py:2653] Model loading took 1.9 GiB and 20.1 s",
]


@pytest.fixture
def cloud(local_server: LocalServer) -> Iterator[CloudFakes]:
    settings = ClientSettings(base_url=local_server.base_url, auth="none", max_attempts=1)
    with cloudrun_platform_with_fakes(client_settings=settings) as fakes:
        yield fakes


@pytest.fixture
def operations(cloud: CloudFakes, tmp_path: Path) -> Iterator[Operations]:
    store = Store.in_dir(tmp_path / "data")
    yield Operations(cloud.platform, store, actor="ops")
    store.close()


@pytest.fixture
def runner(operations: Operations) -> Iterator[JobRunner]:
    settings = ClientSettings(auth="none", max_attempts=1)
    runner = JobRunner(operations.store, lambda: OCRClient(settings=settings), poll_s=0.1)
    yield runner.start()
    runner.stop()


def _next_revision(cloud: CloudFakes) -> str:
    """The name the fake Run server gives the next revision (its rule, read not copied)."""
    service = cloud.run.services[cloud.target.name]
    number = len(cloud.run.revisions[cloud.target.name]) + 1
    return cloud.run._new_revision(service, number).name.rsplit("/", 1)[-1]


def test_an_operator_promotes_a_canary_that_reads_as_well_and_the_audit_says_so(
    cloud: CloudFakes,
    operations: Operations,
    runner: JobRunner,
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    golden = GoldenStore(operations.store)
    golden.register(
        "photo", load_folder(phototest_set(tmp_path / "set")).documents, actor="qa", source="test"
    )
    serving = cloud.revision
    jobs = JobStore(operations.store)
    baseline = start_run(
        golden, jobs, "photo", service_url=local_server.base_url, revision=serving, actor="qa"
    )
    runner.wake()
    assert not wait_for_run(golden, jobs, baseline, timeout_s=300, poll_s=0.1).incomplete
    candidate = _next_revision(cloud)
    at = cloud.now + timedelta(seconds=1)
    cloud.logging.push(*(entry(line, at=at, revision=candidate) for line in STARTUP))
    cloud.run.tag_urls["canary-c0ffee2"] = local_server.base_url

    report = canary_rollout(
        operations, OPERATOR, tag="c0ffee2", golden_set="photo", runner=runner, timeout_s=300
    )

    assert report.promoted and report.revision == candidate, report.text()
    row = operations.audit_log(1)[0]
    assert (row.actor, row.action, row.ok) == (OPERATOR.name, "canary rollout", True)
    assert row.detail == f"promoted {candidate} (photo, margin 0.02)"


def _measured_serving_revision(
    cloud: CloudFakes,
    operations: Operations,
    runner: JobRunner,
    local_server: LocalServer,
    tmp_path: Path,
) -> str:
    """Set "photo" with a complete run on the serving revision, and the next revision's
    healthy startup log and tag URL (the local server); returns the candidate's name."""
    golden = GoldenStore(operations.store)
    documents = load_folder(phototest_set(tmp_path / "set")).documents
    golden.register("photo", documents, actor="qa", source="test")
    jobs = JobStore(operations.store)
    url = local_server.base_url
    baseline = start_run(
        golden, jobs, "photo", service_url=url, revision=cloud.revision, actor="qa"
    )
    runner.wake()
    assert not wait_for_run(golden, jobs, baseline, timeout_s=300, poll_s=0.1).incomplete
    candidate = _next_revision(cloud)
    at = cloud.now + timedelta(seconds=1)
    cloud.logging.push(*(entry(line, at=at, revision=candidate) for line in STARTUP))
    cloud.run.tag_urls["canary-c0ffee2"] = local_server.base_url
    return candidate


def test_a_requested_canary_runs_in_the_worker_not_in_the_callers_process(
    cloud: CloudFakes,
    operations: Operations,
    runner: JobRunner,
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    # Issue 31, item 4: the Service page's button writes a request and returns; the worker
    # takes it through the store, reads the golden run with its own runner and audits it.
    candidate = _measured_serving_revision(cloud, operations, runner, local_server, tmp_path)
    runner.stop()

    number = request_canary_rollout(
        operations, OPERATOR, tag="c0ffee2", golden_set="photo", margin=0.02
    )

    assert cloud.run.requests_for("UpdateService") == []  # nothing ran in this call
    queued = canary_request(operations.store, number)
    assert queued is not None and queued.state == "queued"
    worker = Worker(Runtime(operations), poll_s=0.1, beat_s=0.1).start()
    try:
        done = eventually(
            lambda: (r := canary_request(operations.store, number)) and r.finished_at and r,
            timeout_s=300,
            what="the worker's canary",
        )
    finally:
        worker.stop()
    assert (done.state, done.detail) == ("done", "promoted"), done
    row = next(r for r in operations.audit_log(5) if r.detail.startswith("promoted"))
    assert (row.actor, row.action, row.ok) == (OPERATOR.name, "canary rollout", True)
    assert row.detail == f"promoted {candidate} (photo, margin 0.02)"


def test_a_request_for_a_set_never_measured_is_refused_at_once_and_audited(
    cloud: CloudFakes, operations: Operations, tmp_path: Path
) -> None:
    documents = load_folder(phototest_set(tmp_path / "set")).documents
    GoldenStore(operations.store).register("photo", documents, actor="qa", source="test")

    with pytest.raises(CanaryRefused, match="no complete run"):
        request_canary_rollout(operations, OPERATOR, tag="c0ffee2", golden_set="photo", margin=0.02)

    row = operations.audit_log(1)[0]
    assert (row.action, row.ok) == ("canary rollout", False)
    assert cloud.run.requests_for("UpdateService") == []


def test_a_second_canary_on_a_service_being_rolled_out_is_refused(
    cloud: CloudFakes,
    operations: Operations,
    runner: JobRunner,
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    # Issue 31, item 5: one rollout per service, held in the store.
    _measured_serving_revision(cloud, operations, runner, local_server, tmp_path)
    before = len(cloud.run.requests_for("UpdateService"))

    first = rollout_lock(operations.store, cloud.target.name, "ana (first)", "canary of c0ffee1")
    with first, pytest.raises(RolloutBusy, match="canary of c0ffee1 by ana"):
        canary_rollout(operations, OPERATOR, tag="c0ffee2", golden_set="photo", runner=runner)

    assert len(cloud.run.requests_for("UpdateService")) == before  # nothing deployed
    report = canary_rollout(
        operations, OPERATOR, tag="c0ffee2", golden_set="photo", runner=runner, timeout_s=300
    )  # once the first has finished, the service is free again
    assert report.promoted, report.text()
