"""Fixtures for deploy tests: a started FakeRun and a deployer wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy import CloudRunDeployer, ServiceTarget
from tests.fakes.google_run import FakeRun


@pytest.fixture
def fake_run() -> Iterator[FakeRun]:
    fake = FakeRun()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def target() -> ServiceTarget:
    return ServiceTarget(project="ocr-test", region="europe-west1", service="lightonocr")


@pytest.fixture
def deployer(fake_run: FakeRun, target: ServiceTarget) -> CloudRunDeployer:
    return CloudRunDeployer(
        target,
        services_client=fake_run.services_client(),
        revisions_client=fake_run.revisions_client(),
        operation_timeout_s=10,
    )


@pytest.fixture
def run_env(fake_run: FakeRun) -> dict[str, str]:
    """Environment that points the CLI (and default-built clients) at the fake."""
    return {
        "GOOGLE_CLOUD_PROJECT": "ocr-test",
        "LIGHTONOCR_REGION": "europe-west1",
        "LIGHTONOCR_RUN_ENDPOINT": fake_run.address,
    }
