"""The local platform drives the real OCR server (simulated engine) as a child process."""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from console._store import Store
from console.platforms import select_platform
from console.platforms._base import MetricKey, ServiceState
from console.platforms._local_process import PID_SETTING
from console.platforms.local import LocalPlatform
from ocr_core import SyncOCRClient
from tests.console.local_platform import (
    SIMULATED,
    append_lines,
    health,
    json_line,
    port_open,
)
from tests.fakes.fault_server import FaultServer
from tests.fakes.local_server import start_local_server
from tests.waits import eventually, wait_until

SLOW_START = (*SIMULATED, "--startup-delay", "1")


def pid_of(platform: LocalPlatform) -> int:
    revision = platform.status().revision or ""
    assert revision.startswith("pid "), revision
    return int(revision.split()[1])


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ready(platform: LocalPlatform) -> bool:
    return platform.status().state is ServiceState.READY


# --- scale: start and stop ------------------------------------------------------------------


def test_floor_one_starts_the_server_and_floor_zero_stops_it(make_platform) -> None:
    platform = make_platform()
    assert platform.status().state is ServiceState.DOWN

    started = platform.scale(min_instances=1)
    assert started.ok and "Started" in started.message
    assert wait_until(lambda: ready(platform))
    pid = pid_of(platform)

    stopped = platform.scale(min_instances=0)
    assert stopped.ok, stopped.message
    assert not pid_alive(pid)
    assert not port_open(platform.port)
    assert platform.status().state is ServiceState.DOWN


def ignores_sigterm(pid: int) -> bool:
    """The process has set SIGTERM to be ignored (its SigIgn mask in /proc says so)."""
    status = Path(f"/proc/{pid}/status").read_text()
    [mask] = [line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")]
    ignored = int(mask, 16)
    return bool(ignored & (1 << (signal.SIGTERM - 1)))


def test_a_server_deaf_to_sigterm_is_killed_after_the_grace_period(
    make_platform, tmp_path: Path
) -> None:
    # Stands in for the interpreter: a process that ignores SIGTERM, as a wedged server would.
    stubborn = tmp_path / "stubborn-python"
    stubborn.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'\n"
    )
    stubborn.chmod(0o755)
    platform = make_platform(python=str(stubborn), stop_grace_s=0.5)
    platform.scale(min_instances=1)
    pid = pid_of(platform)
    eventually(lambda: ignores_sigterm(pid), what="the stub ignoring SIGTERM")

    stopped = platform.scale(min_instances=0)
    assert stopped.ok
    assert "killed (no exit 0.5 s after SIGTERM)" in stopped.message
    assert not pid_alive(pid)


def test_status_goes_down_starting_ready(make_platform) -> None:
    platform = make_platform(server_args=SLOW_START)
    before = platform.status()
    assert (before.state, before.min_instances, before.max_instances) == (ServiceState.DOWN, 0, 1)

    platform.scale(min_instances=1)
    starting = platform.status()
    assert starting.state is ServiceState.STARTING
    assert starting.ready_since is None

    assert wait_until(lambda: ready(platform))
    status = platform.status()
    assert status.model == "lightonai/LightOnOCR-2-1B"
    assert status.min_instances == 1
    assert status.ready_since is not None and status.ready_since <= datetime.now(UTC)


def test_a_server_that_exits_with_an_error_is_degraded_and_says_why(make_platform) -> None:
    platform = make_platform(server_args=("--engine", "no-such-engine"))
    platform.scale(min_instances=1)
    assert wait_until(lambda: platform.status().state is ServiceState.DEGRADED)
    detail = platform.status().detail
    assert "exited with code 2" in detail
    assert "invalid choice: 'no-such-engine'" in detail  # the server's own words
    report = platform.warm_up(timeout_s=10)
    assert not report.ready
    assert "exited with code" in str(report.error)


def test_the_ceiling_is_fixed_at_one_and_says_so(make_platform) -> None:
    platform = make_platform()
    result = platform.scale(min_instances=0, max_instances=3)
    assert result.ok
    assert "ceiling stays 1" in result.message
    refused = platform.scale(min_instances=2)
    assert not refused.ok and "0 (stopped) or 1" in refused.message


def test_the_floor_is_restored_by_a_new_console_on_the_same_folder(make_platform) -> None:
    first = make_platform()
    first.scale(min_instances=1)
    first.close()
    assert not port_open(first.port)

    second = make_platform()  # default floor 0, but the store says 1
    assert second.floor == 1
    assert second.status().state in (ServiceState.STARTING, ServiceState.READY)


def test_a_server_left_by_a_previous_console_is_adopted_and_can_be_stopped(
    make_platform,
) -> None:
    first = make_platform()
    first.scale(min_instances=1)
    pid = pid_of(first)

    # A second console on the same folder (the first one never closed, as after a crash).
    second = make_platform()
    assert pid_of(second) == pid
    assert second.scale(min_instances=0).ok
    assert wait_until(lambda: not pid_alive(pid))


# --- an external server -----------------------------------------------------------------------


def test_a_server_already_on_the_port_is_reused_as_external_and_not_stopped(
    make_platform,
) -> None:
    with start_local_server(*SIMULATED) as server:
        platform = make_platform(port=server.port, default_floor=1)
        status = platform.status()
        assert (status.state, status.revision) == (ServiceState.READY, "external")
        assert "cannot be stopped" in status.detail

        refused = platform.scale(min_instances=0)
        assert not refused.ok
        assert "not started by this console" in refused.message
        assert health(server.port) == 200
        assert server.process.poll() is None


def test_an_external_server_is_named_with_its_process(make_platform) -> None:
    with start_local_server(*SIMULATED) as server:
        status = make_platform(port=server.port).status()
        assert f"pid {server.process.pid}" in status.detail


def test_an_external_server_that_refuses_the_console_is_degraded_not_loading(
    make_platform,
) -> None:
    """A 401 from /health is a refusal, not an engine loading: "starting" would make every
    runner hold its jobs for a service that never becomes ready."""
    with FaultServer() as refusing:
        refusing.faults.accept_tokens = {"nobody-has-this"}
        platform = make_platform(port=int(refusing.base_url.rsplit(":", 1)[1]))
        status = platform.status()
        assert status.state is ServiceState.DEGRADED
        assert "answers /health with 401" in status.detail
        assert platform.accepting_work()


def test_an_external_server_still_loading_is_starting_and_takes_no_work(make_platform) -> None:
    with FaultServer() as loading:
        loading.go_cold(60)
        platform = make_platform(port=int(loading.base_url.rsplit(":", 1)[1]))
        assert platform.status().state is ServiceState.STARTING
        assert not platform.accepting_work()


def test_a_squatter_on_the_port_is_named_and_no_server_is_started_beside_it(
    make_platform,
) -> None:
    """A program that accepts connections and never answers: not "down", and scaling up
    says why it cannot start rather than leave a failed bind in the server log."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        platform = make_platform(port=port)
        status = platform.status()
        assert status.state is ServiceState.DEGRADED
        assert f"Port {port} is taken by pid {os.getpid()}" in status.detail
        refused = platform.scale(min_instances=1)
        assert not refused.ok
        assert f"port {port} is taken by pid {os.getpid()}" in refused.message
        assert platform.store.get_setting(PID_SETTING) is None


# --- warm-up ----------------------------------------------------------------------------------


def test_warm_up_from_stopped_measures_the_cold_start(make_platform) -> None:
    platform = make_platform(server_args=SLOW_START)
    ticks: list[float] = []
    report = platform.warm_up(timeout_s=60, on_progress=ticks.append)
    assert report.ready, report.error
    assert report.seconds >= 1.0  # the engine took at least its startup delay
    assert not report.was_ready
    assert len(ticks) >= 3 and ticks == sorted(ticks)
    assert platform.floor == 1
    assert platform.status().state is ServiceState.READY


def test_warm_up_of_a_ready_server_is_quick(make_platform) -> None:
    platform = make_platform()
    assert platform.warm_up(timeout_s=60).ready
    called = time.monotonic()
    again = platform.warm_up(timeout_s=60)
    took = time.monotonic() - called
    # Quick means one probe and no wait, whatever the machine's speed.
    assert again.ready and again.attempts == 1
    assert again.seconds <= took


def test_warm_up_of_a_ready_server_says_it_was_already_ready(make_platform) -> None:
    platform = make_platform()
    first = platform.warm_up(timeout_s=60)
    again = platform.warm_up(timeout_s=60)
    assert (first.was_ready, again.was_ready) == (False, True)
    assert again.attempts == 1


def test_warm_up_gives_up_at_the_timeout(make_platform) -> None:
    platform = make_platform(server_args=(*SIMULATED, "--startup-delay", "30"))
    called = time.monotonic()
    report = platform.warm_up(timeout_s=1.0)
    took = time.monotonic() - called
    assert not report.ready
    assert 1.0 <= report.seconds <= took  # it gave up only once the deadline had passed
    assert "not ready after 1 s" in str(report.error)


def test_sampling_a_stopped_server_records_zero_instances(make_platform) -> None:
    platform = make_platform()
    platform.sample_once()
    series = {s.key: s for s in platform.metrics(timedelta(hours=1))}
    assert series[MetricKey.INSTANCE_COUNT].points[-1][1] == 0.0
    assert MetricKey.MEMORY_UTILIZATION not in series


def test_sampler_records_requests_memory_latency_and_engine_start(make_platform) -> None:
    platform = make_platform(sample_interval_s=0.2)
    assert platform.warm_up(timeout_s=60).ready

    def scraped() -> bool:  # a first scrape: the baseline the requests' latency is a delta of
        return any(
            s.key is MetricKey.MEMORY_UTILIZATION for s in platform.metrics(timedelta(hours=1))
        )

    assert wait_until(scraped)
    with SyncOCRClient(settings=platform.client_settings()) as client:
        for _ in range(3):
            client.ocr_image(_png())

    def has_requests() -> bool:
        series = {(s.key, s.label): s for s in platform.metrics(timedelta(hours=1))}
        counted = series.get((MetricKey.REQUEST_COUNT, "2xx"))
        answered = counted is not None and sum(v for _, v in counted.points) >= 3
        return answered and (MetricKey.REQUEST_LATENCY_S, "mean") in series

    assert wait_until(has_requests)
    series = {(s.key, s.label): s for s in platform.metrics(timedelta(hours=1))}
    memory = series[(MetricKey.MEMORY_UTILIZATION, "rss")]
    assert all(0 < value < 1 for _, value in memory.points)
    assert series[(MetricKey.INSTANCE_COUNT, "running")].points[-1][1] == 1
    assert (MetricKey.REQUEST_LATENCY_S, "mean") in series
    assert series[(MetricKey.REQUEST_LATENCY_S, "p95")].unit == "s"
    assert series[(MetricKey.ERROR_RATE, "5xx")].points[-1][1] == 0.0
    (startup,) = series[(MetricKey.STARTUP_LATENCY_S, "engine")].points
    assert 0 <= startup[1] < 5


def test_samples_survive_a_console_restart(make_platform, tmp_path: Path) -> None:
    first = make_platform()
    first.scale(min_instances=1)
    assert wait_until(lambda: ready(first))
    first.sample_once()
    first.close()

    second = make_platform(store=Store.in_dir(tmp_path))
    keys = {s.key for s in second.metrics(timedelta(hours=1))}
    assert {MetricKey.INSTANCE_COUNT, MetricKey.MEMORY_UTILIZATION} <= keys


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_recent_server_errors_make_a_ready_server_degraded(make_platform) -> None:
    platform = make_platform()
    assert platform.warm_up(timeout_s=60).ready
    platform.sample_once()
    assert platform.status().state is ServiceState.READY
    # What uvicorn writes when OCR requests fail inside the server.
    failed = '127.0.0.1:40000 - "POST /v1/chat/completions HTTP/1.1" 500'
    append_lines(platform, *[json_line("INFO", failed) for _ in range(3)])
    platform.sample_once()
    status = platform.status()
    assert status.state is ServiceState.DEGRADED
    assert "3 of 4 OCR requests failed" in status.detail


# --- choosing the platform --------------------------------------------------------------------


def test_no_service_url_selects_the_local_platform_on_the_configured_port(
    tmp_path: Path,
) -> None:
    env = {
        "LIGHTONOCR_DATA_DIR": str(tmp_path),
        "LIGHTONOCR_LOCAL_PORT": "18999",
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
    }
    store = Store.in_dir(tmp_path)
    store.set_setting("local.floor", 0)  # nothing needs to start for this
    platform = select_platform(env, store=store)
    try:
        assert isinstance(platform, LocalPlatform)
        assert platform.service_url == "http://127.0.0.1:18999"
        assert platform.server_args == ("--engine", "simulated")
    finally:
        platform.close()


def test_a_loopback_service_url_means_the_local_server_on_that_port(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.set_setting("local.floor", 0)
    env = {"LIGHTONOCR_SERVICE_URL": "http://localhost:18998", "LIGHTONOCR_DATA_DIR": str(tmp_path)}
    platform = select_platform(env, store=store)
    try:
        assert platform.name == "local"
        assert platform.service_url == "http://127.0.0.1:18998"
    finally:
        platform.close()


def test_a_remote_service_url_selects_cloud_run() -> None:
    env = {
        "LIGHTONOCR_SERVICE_URL": "https://lightonocr-abc-uc.a.run.app",
        "GOOGLE_CLOUD_PROJECT": "loans-prod",
    }
    platform = select_platform(env)
    try:
        assert platform.name == "cloudrun"
        assert platform.service_url == "https://lightonocr-abc-uc.a.run.app"
    finally:
        platform.close()
