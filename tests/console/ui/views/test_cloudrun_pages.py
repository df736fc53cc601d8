"""The pages on the cloudrun platform: real google-cloud clients against fake Run, Logging and
Monitoring servers on loopback, seeded with a realistic week (tests/fakes/cloud.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from streamlit.testing.v1 import AppTest

from console._store import Store
from console.service import Operations
from console.ui._state import install_operations
from tests.console.ui.views.console_ops import app, page
from tests.fakes.cloud import SERVICE_URL, CloudFakes, cloudrun_platform_with_fakes


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[CloudFakes]:
    with cloudrun_platform_with_fakes() as cloud:
        install_operations(Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops"))
        try:
            yield cloud
        finally:
            install_operations(None)


def _plain(markdown: str) -> str:
    return markdown.replace("\\", "")


def test_the_sidebar_names_the_cloud_run_service(cloud: CloudFakes) -> None:
    at = app().run()
    assert not at.exception
    assert "**cloudrun**" in [m.value for m in at.sidebar.markdown]
    assert at.sidebar.code[0].value == SERVICE_URL


def test_the_service_page_shows_the_gpu_and_the_scaling_bounds(cloud: CloudFakes) -> None:
    at = page("service").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Instance floor"], metrics["Instance ceiling"]) == ("0", "3")
    details = dict(at.dataframe[0].value.itertuples(index=False))
    assert "nvidia-l4" in details["GPU"]
    assert cloud.revision in details["Revision / process"]


def test_raising_the_floor_updates_the_service_after_confirmation(cloud: CloudFakes) -> None:
    at = page("service").run()
    at.number_input(key="svc_floor").set_value(1).run()
    at.button(key="svc_apply").click().run()
    assert cloud.platform.status().min_instances == 0
    at.button(key="svc_confirm").click().run()
    assert not at.exception
    assert not at.error
    assert cloud.platform.status().min_instances == 1


def test_the_error_rate_burst_gets_a_hint_and_the_gpu_memory_a_chart(cloud: CloudFakes) -> None:
    at = page("metrics").run()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert "GPU memory utilisation" in titles
    hints = [_plain(e.value) for e in at.error]
    assert any("of requests failed (alert line 5%)" in h for h in hints)


def test_a_metric_query_that_fails_marks_its_chart_and_the_rest_still_draw(
    cloud: CloudFakes,
) -> None:
    cloud.monitoring.fail(
        "run.googleapis.com/request_latencies", grpc.StatusCode.INVALID_ARGUMENT, "bad aligner"
    )
    at = page("metrics").run()
    assert not at.exception
    [warning] = [_plain(w.value) for w in at.warning]
    assert warning.startswith("**Request latency, s** could not be read:")
    assert "request_latencies" in warning and "bad aligner" in warning
    assert len(at.get("vega_lite_chart")) >= 5  # every other chart is drawn


def test_the_out_of_memory_error_is_found_by_the_severity_filter(cloud: CloudFakes) -> None:
    at = page("logs").run()
    at.selectbox(key="logs_severity").set_value("ERROR").run()
    frame = at.dataframe[0].value
    assert set(frame["severity"]) <= {"ERROR", "CRITICAL", "ALERT", "EMERGENCY"}
    assert frame["message"].str.contains("out of memory", case=False).any()


def test_logs_the_caller_may_not_read_give_a_clear_error(cloud: CloudFakes) -> None:
    cloud.logging.fail("ListLogEntries", grpc.StatusCode.PERMISSION_DENIED, "no logging.viewer")
    at: AppTest = page("logs").run()
    assert not at.exception
    [error] = [_plain(e.value) for e in at.error]
    assert error.startswith("Logs unavailable: PermissionDeniedError")
    assert "roles/logging.viewer" in error


def test_a_status_run_cannot_give_shows_unknown_and_why_and_the_page_still_works(
    cloud: CloudFakes,
) -> None:
    cloud.run.fail("GetService", grpc.StatusCode.PERMISSION_DENIED, "no run.services.get")
    at = page("service").run()
    assert not at.exception
    assert ":violet-badge[unknown]" in [m.value for m in at.markdown]
    [error] = [_plain(e.value) for e in at.error]
    assert error.startswith("status unavailable (")
    assert "roles/run.viewer" in error
    # Scaling stays offered: the operator may still act while Run cannot be read.
    assert at.button(key="svc_apply")
