"""vLLM's queue, batch and KV cache: scraped locally by the sampler, and from a Cloud Run
service through the OCR client with its ID token, only while an instance is up anyway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console._store import Store
from console.jobs import JobRunner, JobStore, NewDocument
from console.metrics._vllm import VllmSampler, jobs_sending
from console.platforms._base import MetricKey
from console.service import Operations
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import make_pdf, wait_until
from tests.console.local_platform import local_platforms
from tests.console.platforms.test_cloudrun_warm_up import TOKEN, Minter
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes
from tests.fakes.fault_server import FaultServer

VLLM_KEYS = {
    MetricKey.VLLM_REQUESTS_WAITING,
    MetricKey.VLLM_REQUESTS_RUNNING,
    MetricKey.KV_CACHE_USAGE,
}


def test_the_local_sampler_keeps_vllms_gauges_from_the_servers_metrics(tmp_path: Path) -> None:
    with local_platforms(tmp_path) as make:
        platform = make(default_floor=1)
        assert wait_until(lambda: platform.status().state.value == "ready")
        platform.sample_once()
        series = Operations(platform, platform.store, actor="qa").metrics(timedelta(hours=1))
    gauges = {s.key: s for s in series if s.key in VLLM_KEYS}
    assert set(gauges) == VLLM_KEYS
    assert all(s.label == "vllm" and len(s.points) == 1 for s in gauges.values())
    assert 0.0 <= gauges[MetricKey.KV_CACHE_USAGE].points[0][1] <= 1.0


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[CloudFakes, FaultServer, Store]]:
    with FaultServer() as server:
        server.faults.accept_tokens = {TOKEN}
        with cloudrun_platform_with_fakes(
            service_url=server.base_url, seed=False, id_token_fetcher=Minter()
        ) as fakes:
            store = Store.in_dir(tmp_path)
            yield fakes, server, store
            store.close()


def _scrapes(server: FaultServer) -> list[dict[str, str]]:
    return [r.headers for r in server.requests if r.path == "/metrics"]


def test_a_scale_to_zero_service_is_never_scraped_awake(
    cloud: tuple[CloudFakes, FaultServer, Store],
) -> None:
    fakes, server, store = cloud
    sampler = VllmSampler(fakes.platform, store)
    try:
        assert sampler.sample_once() == []
    finally:
        sampler.close()
    assert _scrapes(server) == []


def test_with_a_floor_the_gauges_are_scraped_with_the_id_token_and_kept(
    cloud: tuple[CloudFakes, FaultServer, Store],
) -> None:
    fakes, server, store = cloud
    assert fakes.platform.scale(min_instances=1).ok
    sampler = VllmSampler(fakes.platform, store)
    try:
        samples = sampler.sample_once()
    finally:
        sampler.close()
    assert {s.key for s in samples} == VLLM_KEYS
    [headers] = _scrapes(server)
    assert headers["authorization"] == f"Bearer {TOKEN}"
    operations = Operations(fakes.platform, store, actor="ops")
    series = [s for s in operations.metrics(timedelta(hours=1)) if s.key in VLLM_KEYS]
    operations.close()  # with the background sampler the read started
    assert {s.key for s in series} == VLLM_KEYS


def test_while_a_job_sends_pages_the_service_is_scraped_at_floor_zero(
    cloud: tuple[CloudFakes, FaultServer, Store],
) -> None:
    fakes, server, store = cloud
    server.faults.delay_s = 1.0
    url = fakes.platform.service_url
    jobs = JobStore(store)
    job_id = jobs.create_job([NewDocument("a.pdf", make_pdf(2))], actor="qa", service_url=url)
    settings = ClientSettings(base_url=url, auth="bearer", token=TOKEN, max_attempts=1)
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.05).start()
    sampler = VllmSampler(fakes.platform, store)
    try:
        assert wait_until(lambda: server.in_flight > 0)
        assert jobs_sending(store, url)
        samples = {s.key: s.value for s in sampler.sample_once()}
        assert wait_until(lambda: not jobs.job(job_id).active)
    finally:
        sampler.close()
        runner.stop()
    assert samples[MetricKey.VLLM_REQUESTS_RUNNING] >= 1
    assert not jobs_sending(store, url)
