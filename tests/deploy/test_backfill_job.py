"""The backfill on Cloud Run Jobs: the Job a dry run prints, and create, update, run, watch
and cancel through the real google-cloud-run clients on an in-process fake gRPC server."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator

import pytest

from deploy._backfill import BackfillDeployer
from deploy._backfill_cli import run_backfill
from deploy._backfill_job import BackfillJobSpec, job_name
from deploy._cli import main
from deploy._errors import InvalidSpec
from deploy._spec import ServiceTarget
from tests.fakes.google_run_jobs import FakeRunJobs

TARGET = ServiceTarget(project="acme-ocr", region="us-central1")
URL = "https://lightonocr-123.us-central1.run.app"
DIGEST = "us-docker.pkg.dev/acme/ocr/lightonocr-console@sha256:" + "a" * 64


@pytest.fixture
def fake() -> Iterator[FakeRunJobs]:
    server = FakeRunJobs()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def deployer(fake: FakeRunJobs) -> BackfillDeployer:
    return BackfillDeployer(
        TARGET, jobs_client=fake.jobs_client(), executions_client=fake.executions_client()
    )


def _spec(**overrides: object) -> BackfillJobSpec:
    return BackfillJobSpec(**{"service_url": URL, "image": DIGEST, **overrides})  # type: ignore[arg-type]


def test_the_dry_run_prints_the_job_and_contacts_nothing() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "backfill",
            "run",
            "gs://scans/2019/",
            "--out",
            "gs://ocr/2019/",
            "--service-url",
            URL,
            "--image",
            DIGEST,
            "--tasks",
            "20",
            "--project",
            "acme-ocr",
            "--dry-run",
        ],
        env={},
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    plan = json.loads(out.getvalue())
    template = plan["spec"]["template"]
    task = template["template"]
    assert template["taskCount"] == 20 and task["maxRetries"] == 3
    assert task["timeout"] == "21600s"
    assert task["serviceAccount"] == "lightonocr-backfill@acme-ocr.iam.gserviceaccount.com"
    [container] = task["containers"]
    assert container["image"] == DIGEST
    assert {"name": "LIGHTONOCR_SERVICE_URL", "value": URL} in container["env"]
    assert "nodeSelector" not in task and plan["gpu"].startswith("none")
    args = plan["run"]["containerOverrides"][0]["args"]
    assert args == [
        "task",
        "gs://ocr/2019/",
        "--source",
        "gs://scans/2019/",
        "--formats",
        "md,json",
    ]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"tasks": 0}, "--tasks"),
        ({"max_retries": 11}, "--max-retries"),
        ({"task_timeout_s": 200 * 3600}, "--task-timeout"),
        ({"image": "us-docker.pkg.dev/acme/ocr/lightonocr-console:latest"}, "not immutable"),
    ],
)
def test_a_job_cloud_run_would_refuse_is_refused_here(overrides: dict, words: str) -> None:
    with pytest.raises(InvalidSpec, match=words):
        _spec(**overrides)


def test_a_backfill_on_cloud_run_reads_and_writes_buckets_only() -> None:
    with pytest.raises(InvalidSpec, match="gs://"):
        _spec().overrides("/home/ops/scans", "gs://ocr/out/", "md,json")


def test_the_job_is_created_then_updated_under_its_etag(
    fake: FakeRunJobs, deployer: BackfillDeployer
) -> None:
    created = deployer.ensure_job(_spec(tasks=5))
    assert created.name == job_name(TARGET) and created.template.task_count == 5
    updated = deployer.ensure_job(_spec(tasks=8))
    assert updated.template.task_count == 8
    [update] = fake.requests_for("UpdateJob")
    assert update.job.etag == created.etag


def test_a_run_starts_one_execution_that_can_be_watched_and_cancelled(
    fake: FakeRunJobs, deployer: BackfillDeployer
) -> None:
    spec = _spec(tasks=4)
    deployer.ensure_job(spec)
    started = deployer.run(spec, "gs://scans/2019/", "gs://ocr/2019/", "md,json")
    assert started.tasks == 4 and not started.done
    [run] = fake.requests_for("RunJob")
    assert list(run.overrides.container_overrides[0].args)[:2] == ["task", "gs://ocr/2019/"]
    fake.progress(started.name, running=2, succeeded=1, failed=1)
    watched = deployer.state(started.short_name)
    assert (watched.running, watched.succeeded, watched.failed) == (2, 1, 1)
    cancelled = deployer.cancel(started.short_name)
    assert cancelled.done and cancelled.cancelled == 2


def test_the_cli_runs_and_says_how_to_follow(fake: FakeRunJobs, deployer: BackfillDeployer) -> None:
    args = argparse.Namespace(
        backfill_command="run",
        project="acme-ocr",
        region="us-central1",
        source="gs://scans/",
        out="gs://ocr/",
        service_url=URL,
        image=DIGEST,
        tag=None,
        tasks=3,
        parallelism=0,
        max_retries=3,
        task_timeout=3600,
        formats="md,json",
        service_account=None,
        dry_run=False,
    )
    out = io.StringIO()
    assert run_backfill(args, {}, out, deployer=deployer) == 0
    assert "started lightonocr-backfill-" in out.getvalue()
    assert "python -m console.backfill status gs://ocr/ --id lightonocr-backfill-" in out.getvalue()
