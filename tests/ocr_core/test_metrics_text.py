"""`metrics_text`: the server's Prometheus text through the client, with its credentials."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocr_core import AuthError, ClientSettings, ServiceUnavailable, SyncOCRClient
from tests.fakes.fault_server import FaultServer
from tests.fakes.local_server import LocalServer

TOKEN = "id-token-for-the-service"
GAUGES = {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"}


def _gauges(text: str) -> set[str]:
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


@pytest.fixture
def local(simulated_server: LocalServer) -> LocalServer:
    return simulated_server  # the session's simulated server (tests/conftest.py)


def test_the_local_server_serves_vllms_gauges(local: LocalServer) -> None:
    with SyncOCRClient(settings=ClientSettings(base_url=local.base_url, auth="none")) as client:
        text = client.metrics_text()
    assert _gauges(text) >= GAUGES


def test_the_scrape_carries_the_id_token_as_every_call_does() -> None:
    with FaultServer() as server:
        server.faults.accept_tokens = {TOKEN}
        settings = ClientSettings(base_url=server.base_url, auth="bearer", token=TOKEN)
        with SyncOCRClient(settings=settings) as client:
            text = client.metrics_text()
        [request] = [r for r in server.requests if r.path == "/metrics"]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert _gauges(text) >= GAUGES


def test_a_refused_scrape_is_a_typed_error_without_the_token() -> None:
    with FaultServer() as server:
        server.faults.accept_tokens = {"another-token"}
        settings = ClientSettings(base_url=server.base_url, auth="bearer", token=TOKEN)
        with SyncOCRClient(settings=settings) as client, pytest.raises(AuthError) as refused:
            client.metrics_text()
    assert TOKEN not in str(refused.value)


def test_a_scrape_never_opens_the_breaker() -> None:
    with FaultServer() as server:
        server.go_cold(60)
        settings = ClientSettings(
            base_url=server.base_url, auth="none", breaker_failure_threshold=1
        )
        with SyncOCRClient(settings=settings) as client:
            for _ in range(3):
                with pytest.raises(ServiceUnavailable):
                    client.metrics_text()
            assert client.breaker.snapshot().state == "closed"
