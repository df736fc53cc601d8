"""`python -m deploy apply --canary`: the plan on --dry-run, and a refusal's exit code, through
the CLI against the fake Run and Logging servers (LIGHTONOCR_RUN_ENDPOINT /
LIGHTONOCR_LOGGING_ENDPOINT, loopback) and the real local OCR server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console._store import Store
from console.golden import GoldenStore, load_folder
from deploy import CloudRunDeployer, ServiceSpec
from deploy._canary_cli import EXIT_REFUSED
from deploy._cli import main
from tests.console.golden.conftest import phototest_set
from tests.fakes.google_logging import FakeLogging, entry
from tests.fakes.google_run import FakeRun
from tests.fakes.local_server import LocalServer

STARTUP = [
    "INFO 12-05 03:01:02 [__init__.py:216] Automatically detected platform cuda.",
    "INFO 12-05 03:01:41 [gpu_model_runner.py:2653] Model loading took 1.9 GiB and 20.1 s",
]


@pytest.fixture
def fake_logging() -> Iterator[FakeLogging]:
    with FakeLogging() as fake:
        yield fake


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, out=out, err=err)
    return code, out.getvalue() + err.getvalue()


def test_dry_run_prints_the_canary_plan_and_contacts_nothing(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    code, text = _run(["apply", "--tag", "c0ffee2", "--canary", "photo", "--dry-run"], run_env)

    assert code == 0, text
    assert "0 % traffic, tag canary-c0ffee2" in text
    assert "promote (100 % traffic) only if complete" in text and "0.02" in text
    assert fake_run.requests == []


def test_a_canary_with_no_run_of_the_serving_revision_to_compare_is_refused_with_exit_3(
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    deployer: CloudRunDeployer,
    run_env: dict[str, str],
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    serving = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    store = Store.in_dir(tmp_path / "data")
    GoldenStore(store).register("photo", load_folder(phototest_set(tmp_path / "set")).documents,
                                actor="qa", source="test")  # fmt: skip
    store.close()
    service = fake_run.services[deployer.target.name]
    number = len(fake_run.revisions[deployer.target.name]) + 1
    candidate = fake_run._new_revision(service, number).name.rsplit("/", 1)[-1]
    now = datetime.now(UTC)
    fake_logging.push(*(entry(line, at=now, revision=candidate) for line in STARTUP))
    fake_run.tag_urls["canary-c0ffee2"] = local_server.base_url
    env = {
        **run_env,
        "LIGHTONOCR_LOGGING_ENDPOINT": fake_logging.address,
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_AUTH": "none",
        "LIGHTONOCR_ACTOR": "ops",
    }

    code, text = _run(["apply", "--tag", "c0ffee2", "--canary", "photo"], env)

    assert code == EXIT_REFUSED, text
    assert "no complete golden run of the serving revision" in text  # unmeasured is no pass
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(serving, 100)]
