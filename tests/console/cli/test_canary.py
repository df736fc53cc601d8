"""`python -m console.golden canary`: the plan on --dry-run, and a refusal's exit code, through
the CLI against the fake Run and Logging servers (LIGHTONOCR_RUN_ENDPOINT /
LIGHTONOCR_LOGGING_ENDPOINT, loopback) and the real local OCR server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console._store import Store
from console.cli.canary import EXIT_REFUSED, main
from console.cli.golden import main as golden_main
from console.jobs import JobStatus, JobStore, NewDocument
from deploy import CloudRunDeployer, ServiceSpec
from tests.console.golden.test_gate import measured_set
from tests.fakes.google_logging import FakeLogging, entry
from tests.fakes.google_run import FakeRun
from tests.fakes.local_server import LocalServer


@pytest.fixture
def fake_logging() -> Iterator[FakeLogging]:
    with FakeLogging() as fake:
        yield fake


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, out=out, err=err)
    return code, out.getvalue() + err.getvalue()


def test_dry_run_prints_the_canary_plan_and_contacts_nothing(
    fake_run: FakeRun, run_env: dict[str, str], tmp_path: Path
) -> None:
    measured_set(tmp_path / "data", tmp_path / "set")
    env = {**run_env, "LIGHTONOCR_DATA_DIR": str(tmp_path / "data")}

    code, text = _run(["photo", "--tag", "c0ffee2", "--dry-run"], env)

    assert code == 0, text
    assert "0 % traffic, tag canary-c0ffee2" in text
    assert "promote (100 % traffic) only if complete" in text and "0.02" in text
    assert fake_run.requests == []


def test_a_canary_with_no_run_of_the_serving_revision_is_refused_before_it_is_deployed(
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    deployer: CloudRunDeployer,
    run_env: dict[str, str],
    tmp_path: Path,
) -> None:
    serving = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    measured_set(tmp_path / "data", tmp_path / "set")  # a run of another revision only
    env = {
        **run_env,
        "LIGHTONOCR_LOGGING_ENDPOINT": fake_logging.address,
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_AUTH": "none",
        "LIGHTONOCR_ACTOR": "ops",
    }

    code, text = _run(["photo", "--tag", "c0ffee2"], env)

    assert code == EXIT_REFUSED, text
    assert "no complete golden run of the serving revision" in text  # unmeasured is no pass
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(serving, 100)]
    assert len(fake_run.revisions[deployer.target.name]) == 1  # no candidate was made


STARTUP = [
    "INFO 12-05 03:01:02 [__init__.py:216] Automatically detected platform cuda.",
    "INFO 12-05 03:01:41 [gpu_model_runner.py:2653] Model loading took 1.9 GiB and 20.1 s",
]


def _canary_env(
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    deployer: CloudRunDeployer,
    run_env: dict[str, str],
    local_server: LocalServer,
    tmp_path: Path,
) -> dict[str, str]:
    """A serving revision measured by set "photo" (CER 0.99: the local server reads better),
    the candidate's startup log, and its tag URL on the local OCR server."""
    serving = deployer.status().latest_ready_revision
    measured_set(tmp_path / "data", tmp_path / "set", revision=serving, cer=0.99)
    service = fake_run.services[deployer.target.name]
    number = len(fake_run.revisions[deployer.target.name]) + 1
    candidate = fake_run._new_revision(service, number).name.rsplit("/", 1)[-1]
    fake_logging.push(*(entry(line, at=datetime.now(UTC), revision=candidate) for line in STARTUP))
    fake_run.tag_urls["canary-c0ffee2"] = local_server.base_url
    return {
        **run_env,
        "LIGHTONOCR_LOGGING_ENDPOINT": fake_logging.address,
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_AUTH": "none",
        "LIGHTONOCR_ACTOR": "ops",
    }


def test_the_canary_command_reads_its_own_golden_run_and_takes_no_other_job(
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    deployer: CloudRunDeployer,
    run_env: dict[str, str],
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    # Issue 31, item 4: pointed at the team's store, the command's runner claims only the
    # canary's golden run; someone's queued job waits for the team's workers.
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    env = _canary_env(fake_run, fake_logging, deployer, run_env, local_server, tmp_path)
    store = Store.in_dir(tmp_path / "data")
    page = (tmp_path / "set" / "phototest.tif").read_bytes()
    theirs = JobStore(store).create_job(
        [NewDocument("theirs.tif", page)], actor="qa", service_url=local_server.base_url
    )
    store.close()

    code, text = _run(["photo", "--tag", "c0ffee2"], env)

    assert code == 0, text
    assert "golden run #2 on the candidate revision" in text
    store = Store.in_dir(tmp_path / "data")
    try:
        job = JobStore(store).job(theirs)
        assert job is not None
        assert (job.status, job.pages_done) == (JobStatus.QUEUED, 0)
    finally:
        store.close()


def test_the_canary_deploys_the_spec_apply_would_and_keeps_the_services_floor(
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    deployer: CloudRunDeployer,
    run_env: dict[str, str],
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    # Issue 31, item 3: every flag reaches the candidate, and a keep-warm floor survives.
    deployer.apply(ServiceSpec(tag="c0ffee1", max_instances=4))
    deployer.scale(min_instances=1)
    env = _canary_env(fake_run, fake_logging, deployer, run_env, local_server, tmp_path)
    account = "ocr-runtime@ocr-test.iam.gserviceaccount.com"
    flags = ["--repository", "ocr-images", "--probe-delay", "200", "--service-account", account]

    code, text = _run(["photo", "--tag", "c0ffee2", *flags], env)

    assert code == 0, text
    full = [r for r in fake_run.requests_for("UpdateService") if not r.update_mask.paths]
    template = full[-1].service.template  # the candidate's (later updates are traffic only)
    assert template.service_account == account
    assert template.containers[0].startup_probe.initial_delay_seconds == 200
    assert "/ocr-images/lightonocr-gpu:c0ffee2" in template.containers[0].image
    scaling = fake_run.services[deployer.target.name].scaling
    assert (scaling.min_instance_count, scaling.max_instance_count) == (1, 4)


def test_the_golden_command_hands_canary_to_the_canary_gate(
    fake_run: FakeRun,
    run_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    measured_set(tmp_path / "data", tmp_path / "set")
    for key, value in {**run_env, "LIGHTONOCR_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(key, value)

    code = golden_main(["canary", "photo", "--tag", "c0ffee2", "--dry-run"])

    assert code == 0
    assert "0 % traffic, tag canary-c0ffee2" in capsys.readouterr().out
    assert fake_run.requests == []


def test_a_malformed_console_variable_is_bad_input_naming_it(
    fake_run: FakeRun, run_env: dict[str, str], tmp_path: Path
) -> None:
    measured_set(tmp_path / "data", tmp_path / "set")
    env = {
        **run_env,
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_LOW_DISK_MB": "plenty",
    }

    code, text = _run(["photo", "--tag", "c0ffee2", "--dry-run"], env)

    assert code == 2
    assert "LIGHTONOCR_LOW_DISK_MB" in text and "Traceback" not in text
    assert fake_run.requests == []
