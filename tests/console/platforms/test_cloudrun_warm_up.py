"""CloudRunPlatform warm-up: ocr_core's client with Google ID tokens against a real HTTP server
on loopback that is cold (503) for a while, as a Cloud Run service scaled to zero is."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from google.auth import exceptions as auth_exc

from console.platforms._base import ServiceState
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes
from tests.fakes.fault_server import FaultServer

TOKEN = "id-token-minted-for-the-service"


class Minter:
    """Stands in for Google's token endpoint: records audiences, hands out one token."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.audiences: list[str] = []

    def __call__(self, audience: str) -> str:
        self.audiences.append(audience)
        return self.token


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.faults.accept_tokens = {TOKEN}
        yield running


@pytest.fixture
def minter() -> Minter:
    return Minter()


@pytest.fixture
def cloud(server: FaultServer, minter: Minter) -> Iterator[CloudFakes]:
    """The platform pointed at the loopback server; no instance in Monitoring (cold)."""
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=minter
    ) as fakes:
        yield fakes


def test_warm_up_waits_through_a_cold_start_and_measures_it(
    cloud: CloudFakes, server: FaultServer
) -> None:
    # Cold for 2 s from now. The fault server stamps each request on this process's monotonic
    # clock: the measure is checked against what it saw, not against a speed.
    server.go_cold(2.0)
    cold_until = server.faults.cold_until
    ticks: list[float] = []

    called = time.monotonic()
    report = cloud.platform.warm_up(timeout_s=60, on_progress=ticks.append)
    took = time.monotonic() - called

    assert report.ready, report.error
    assert report.attempts > 1
    assert not report.was_ready
    probes = [r for r in server.requests if r.path == "/health"]
    assert probes[0].at < cold_until <= probes[-1].at  # refused while cold, then ready
    assert probes[-1].at - probes[0].at <= report.seconds <= took
    assert ticks and ticks == sorted(ticks)
    assert ticks[-1] <= took


def test_warm_up_sends_an_id_token_minted_for_the_services_custom_audience(
    cloud: CloudFakes, server: FaultServer, minter: Minter
) -> None:
    # Issue 31, item 8: deploy sets a custom audience, valid at the service's URL and at its
    # revision tags' URLs, and every caller mints that one.
    [audience] = cloud.run.services[cloud.target.name].custom_audiences

    report = cloud.platform.warm_up(timeout_s=10)

    assert report.ready, report.error
    assert audience == "https://lightonocr.us-central1.demo-project.run.invalid"
    assert minter.audiences == [audience]
    assert server.requests
    assert {r.headers.get("authorization") for r in server.requests} == {f"Bearer {TOKEN}"}


def test_a_warm_service_is_measured_as_already_ready(cloud: CloudFakes) -> None:
    report = cloud.platform.warm_up(timeout_s=10)
    assert report.ready, report.error
    assert (report.attempts, report.was_ready) == (1, True)


def test_after_a_warm_up_a_scale_to_zero_service_reads_ready(cloud: CloudFakes) -> None:
    assert cloud.platform.status().state is ServiceState.DOWN

    assert cloud.platform.warm_up(timeout_s=10).ready

    assert cloud.platform.status().state is ServiceState.READY


def test_a_service_still_cold_at_the_deadline_says_what_to_check(
    cloud: CloudFakes, server: FaultServer
) -> None:
    server.go_cold(30)

    called = time.monotonic()
    report = cloud.platform.warm_up(timeout_s=1.0)
    took = time.monotonic() - called

    assert not report.ready
    assert 1.0 <= report.seconds <= took  # it gave up only once the deadline had passed
    assert report.error is not None
    assert "still cold" in report.error
    assert "up to 360 s to start" in report.error  # the deploy spec's startup window
    assert "GPU quota in us-central1" in report.error


def test_a_token_the_service_rejects_fails_fast_without_showing_it(
    server: FaultServer,
) -> None:
    wrong = Minter("a-token-for-another-audience")
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=wrong
    ) as cloud:
        report = cloud.platform.warm_up(timeout_s=30)

    assert not report.ready
    assert report.error is not None
    assert "HTTP 401" in report.error
    assert "roles/run.invoker" in report.error
    assert wrong.token not in report.error
    assert report.attempts == 1  # no poll after the refusal: the 30 s were not waited out


def test_no_way_to_mint_an_id_token_says_how_to_get_one(server: FaultServer) -> None:
    def no_adc(audience: str) -> str:
        raise auth_exc.DefaultCredentialsError("Could not automatically determine credentials")

    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=no_adc
    ) as cloud:
        report = cloud.platform.warm_up(timeout_s=10)

    assert not report.ready
    assert report.error is not None
    assert "cannot obtain a Google ID token" in report.error
    assert "LIGHTONOCR_TOKEN" in report.error


def test_a_service_without_a_custom_audience_gets_tokens_for_its_url(
    server: FaultServer, minter: Minter
) -> None:
    # A service deployed before custom audiences: its URL is the audience it accepts.
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=minter
    ) as cloud:
        service = cloud.run.services[cloud.target.name]
        service.custom_audiences = []
        cloud.run.services[cloud.target.name] = service
        assert cloud.platform.warm_up(timeout_s=10).ready
    assert minter.audiences == [server.base_url]
