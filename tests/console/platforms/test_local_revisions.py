"""The local platform's one pseudo-revision, its refusal to route traffic, and the requests
in flight read from the real server's /metrics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.platforms._base import ServiceState
from console.platforms._local_revisions import in_flight_from_metrics
from console.platforms._local_warm_up import probe_image
from console.platforms.local import LocalPlatform
from ocr_core import SyncOCRClient
from tests.console.local_platform import local_platforms
from tests.waits import wait_until

SLOW = ("--engine", "simulated", "--service-time", "3")


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    with local_platforms(tmp_path) as make:
        yield make


def _ready(platform: LocalPlatform) -> LocalPlatform:
    assert wait_until(lambda: platform.status().state is ServiceState.READY)
    return platform


def test_the_running_server_is_the_one_revision_with_all_the_traffic(make_platform) -> None:
    platform = _ready(make_platform(default_floor=1, server_args=SLOW))
    [revision] = platform.revisions()
    assert revision.name == platform.status().revision and revision.name.startswith("pid ")
    assert revision.traffic_percent == 100
    assert revision.image == "local OCR server (simulated)"
    assert revision.created is not None and revision.ready


def test_a_stopped_server_is_listed_as_not_running(make_platform) -> None:
    [revision] = make_platform().revisions()
    assert (revision.name, revision.ready, revision.created) == ("local (not running)", False, None)


def test_traffic_cannot_be_routed_locally_and_says_why(make_platform) -> None:
    platform = make_platform()
    assert not platform.supports_traffic
    result = platform.set_traffic({"pid 1": 100})
    assert not result.ok and "one OCR server" in result.message


def test_requests_in_flight_come_from_the_servers_metrics(make_platform) -> None:
    platform = _ready(make_platform(default_floor=1, server_args=SLOW))
    assert platform.requests_in_flight() == 0
    settings = platform.client_settings().with_overrides(max_attempts=1, timeout_s=30)

    def ocr() -> None:  # each request holds a slot for the engine's 3 s
        with SyncOCRClient(settings=settings) as client:
            client.extract_text(probe_image(), filename="p.png")

    senders = [threading.Thread(target=ocr) for _ in range(3)]
    for sender in senders:
        sender.start()
    try:
        assert wait_until(lambda: (platform.requests_in_flight() or 0) >= 3, timeout_s=10)
    finally:
        for sender in senders:
            sender.join()
    assert wait_until(lambda: platform.requests_in_flight() == 0, timeout_s=10)


def test_requests_in_flight_are_unknown_when_the_server_is_down(make_platform) -> None:
    assert make_platform().requests_in_flight() is None


def test_running_and_waiting_add_up_and_other_text_has_no_count() -> None:
    text = (
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{model_name="m"} 2.0\n'
        "# TYPE vllm:num_requests_waiting gauge\n"
        'vllm:num_requests_waiting{model_name="m"} 5.0\n'
    )
    assert in_flight_from_metrics(text) == 7
    assert in_flight_from_metrics("# TYPE other gauge\nother 1\n") is None
