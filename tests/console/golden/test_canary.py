"""The quality-gated canary end to end: the fake Cloud Run and Logging servers through the real
Google clients, and real OCR servers on loopback standing for the revisions (the rapidocr
local server reads the page; the fault server answers "page #ffffff", a worse engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console._store import Store
from console.golden import GoldenStore, load_folder, start_run, wait_for_run
from console.golden._canary import CanaryReport, run_canary
from console.jobs import JobRunner, JobStore
from deploy import CloudRunDeployer, ServiceSpec, startup_messages
from ocr_core import ClientSettings, OCRClient
from tests.console.golden.conftest import phototest_set
from tests.fakes.fault_server import FaultServer
from tests.fakes.google_logging import FakeLogging, entry
from tests.fakes.google_run import FakeRun
from tests.fakes.local_server import LocalServer

TAG = "canary-c0ffee2"
HEALTHY_START = [
    "INFO 12-05 03:01:02 [__init__.py:216] Automatically detected platform cuda.",
    "INFO 12-05 03:01:41 [gpu_model_runner.py:2653] Model loading took 1.9 GiB and 20.1 s",
]
DRIVER_TOO_OLD = (
    "UserWarning: CUDA initialization: The NVIDIA driver on your system is too old "
    "(found version 12020)."
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.in_dir(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def runner(store: Store) -> Iterator[JobRunner]:
    settings = ClientSettings(auth="none", max_attempts=1)
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    yield runner
    runner.stop()


@pytest.fixture
def fake_logging() -> Iterator[FakeLogging]:
    with FakeLogging() as fake:
        yield fake


@pytest.fixture
def golden(store: Store, tmp_path: Path) -> GoldenStore:
    golden = GoldenStore(store)
    loaded = load_folder(phototest_set(tmp_path / "set"))
    golden.register("photo", loaded.documents, actor="qa", source="test")
    return golden


def _serving_with_baseline(
    deployer: CloudRunDeployer, golden: GoldenStore, runner: JobRunner, url: str
) -> str:
    """The revision serving now, and a complete golden run of it on `url`."""
    serving = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    jobs = JobStore(golden.store)
    run_id = start_run(golden, jobs, "photo", service_url=url, revision=serving, actor="qa")
    runner.wake()
    assert not wait_for_run(golden, jobs, run_id, timeout_s=300, poll_s=0.1).incomplete
    return serving


def _startup_log(
    fake_logging: FakeLogging, deployer: CloudRunDeployer, lines: list[str]
) -> Callable[[str], list[str]]:
    """The candidate writes `lines` as it starts; the canary reads them from Cloud Logging."""

    def read(revision: str) -> list[str]:
        at = datetime.now(UTC)
        fake_logging.push(*(entry(line, at=at, revision=revision) for line in lines))
        return startup_messages(fake_logging.client(), deployer.target, revision)

    return read


def _canary(
    deployer: CloudRunDeployer,
    golden: GoldenStore,
    runner: JobRunner,
    startup_log: Callable[[str], list[str]],
) -> CanaryReport:
    settings = ClientSettings(auth="none", max_attempts=1, timeout_s=120)
    return run_canary(
        deployer,
        ServiceSpec(tag="c0ffee2"),
        golden=golden,
        jobs=JobStore(golden.store),
        runner=runner,
        name="photo",
        client_for=lambda url: OCRClient(url, settings=settings),
        startup_log=startup_log,
        actor="ops",
        timeout_s=300,
    )


def test_a_revision_that_reads_as_well_is_promoted(
    deployer: CloudRunDeployer,
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    golden: GoldenStore,
    runner: JobRunner,
    local_server: LocalServer,
) -> None:
    serving = _serving_with_baseline(deployer, golden, runner, local_server.base_url)
    fake_run.tag_urls[TAG] = local_server.base_url  # the candidate reads like the old one

    report = _canary(deployer, golden, runner, _startup_log(fake_logging, deployer, HEALTHY_START))

    assert report.promoted, report.text()
    assert report.serving == [serving] and report.refusals == []
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(report.revision, 100)]
    assert report.run is not None and not report.run.incomplete
    assert "phototest.tif: CER" in report.text() and "PROMOTED" in report.text()


def test_a_revision_that_reads_worse_keeps_traffic_where_it_was_and_its_tag(
    deployer: CloudRunDeployer,
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    golden: GoldenStore,
    runner: JobRunner,
    local_server: LocalServer,
) -> None:
    serving = _serving_with_baseline(deployer, golden, runner, local_server.base_url)
    with FaultServer() as worse:
        fake_run.tag_urls[TAG] = worse.base_url
        log = _startup_log(fake_logging, deployer, HEALTHY_START)
        report = _canary(deployer, golden, runner, log)

    assert not report.promoted
    assert any("CER" in why for why in report.refusals), report.text()  # it read worse
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(serving, 100)]
    tags = [t.tag for t in fake_run.services[deployer.target.name].traffic if t.tag]
    assert tags == [TAG]  # kept for inspection
    assert "REFUSED" in report.text()


def test_a_driver_too_old_for_the_image_stops_the_canary_before_its_golden_run(
    deployer: CloudRunDeployer,
    fake_run: FakeRun,
    fake_logging: FakeLogging,
    golden: GoldenStore,
    runner: JobRunner,
    local_server: LocalServer,
) -> None:
    serving = _serving_with_baseline(deployer, golden, runner, local_server.base_url)
    fake_run.tag_urls[TAG] = local_server.base_url
    log = _startup_log(fake_logging, deployer, [DRIVER_TOO_OLD, HEALTHY_START[1]])

    report = _canary(deployer, golden, runner, log)

    assert not report.promoted and report.run is None
    assert any("too old (found version 12020)" in why for why in report.refusals)
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(serving, 100)]
