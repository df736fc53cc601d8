"""CloudRunPlatform status and scaling: real run_v2 clients against fake Cloud Run on loopback."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.cloud import run_v2

from console.platforms._base import ServiceState
from deploy import CloudError
from ocr_core import ClientSettings
from tests.fakes.cloud import SERVICE_URL, CloudFakes
from tests.fakes.google_monitoring import PREFIX, RawSeries


def test_a_ready_service_reports_its_revision_scaling_and_gpu(cloud: CloudFakes) -> None:
    status = cloud.platform.status()

    assert status.state is ServiceState.READY
    assert status.revision == cloud.revision
    assert (status.min_instances, status.max_instances) == (0, 3)
    assert status.gpu == "1 x nvidia-l4"
    assert status.url == SERVICE_URL
    assert status.model == "lightonai/LightOnOCR-2-1B"
    assert status.ready_since is not None
    assert "running" in status.detail


def test_status_reads_the_configured_service(cloud: CloudFakes) -> None:
    cloud.platform.status()

    (request,) = cloud.run.requests_for("GetService")[-1:]
    assert request.name == "projects/demo-project/locations/us-central1/services/lightonocr"


def test_a_reconciling_service_is_starting(cloud: CloudFakes) -> None:
    cloud.run.services[cloud.target.name].reconciling = True

    status = cloud.platform.status()

    assert status.state is ServiceState.STARTING
    assert "rolling out" in status.detail


def test_a_failed_rollout_is_degraded_and_keeps_serving_the_old_revision(
    cloud: CloudFakes,
) -> None:
    serving = cloud.revision
    service = cloud.run.services[cloud.target.name]
    service.latest_created_revision = f"{cloud.target.name}/revisions/lightonocr-00002-new"
    service.terminal_condition = run_v2.Condition(
        type_="Ready",
        state=run_v2.Condition.State.CONDITION_FAILED,
        message="Revision 'lightonocr-00002-new' is not ready and cannot serve traffic. The "
        "user-provided container failed the configured startup probe checks.",
    )

    status = cloud.platform.status()

    assert status.state is ServiceState.DEGRADED
    assert status.revision == serving
    assert "startup probe" in status.detail
    assert f"still serving {serving}" in status.detail


def test_a_service_whose_only_revision_failed_is_down(empty_cloud: CloudFakes) -> None:
    service = empty_cloud.run.services[empty_cloud.target.name]
    service.latest_ready_revision = ""
    service.terminal_condition = run_v2.Condition(
        type_="Ready",
        state=run_v2.Condition.State.CONDITION_FAILED,
        message="Revision 'lightonocr-00001-abc' is not ready and cannot serve traffic.",
    )

    status = empty_cloud.platform.status()

    assert status.state is ServiceState.DOWN
    assert "No revision can serve" in status.detail
    assert "cannot serve traffic" in status.detail


def test_scaled_to_zero_with_no_instance_is_down_and_says_it_is_cold(
    empty_cloud: CloudFakes,
) -> None:
    status = empty_cloud.platform.status()

    assert status.state is ServiceState.DOWN
    assert "cold, not broken" in status.detail
    (request,) = empty_cloud.monitoring.requests_for(PREFIX + "container/instance_count")
    assert request.interval.end_time - request.interval.start_time == timedelta(minutes=5)


def test_scaled_to_zero_with_a_recent_instance_is_ready(empty_cloud: CloudFakes) -> None:
    empty_cloud.monitoring.add(
        RawSeries(
            PREFIX + "container/instance_count",
            [(empty_cloud.now - timedelta(minutes=2), 1.0)],
            metric_labels={"state": "idle"},
        )
    )

    status = empty_cloud.platform.status()

    assert status.state is ServiceState.READY
    assert "1 instance(s) running" in status.detail


def test_floor_zero_without_monitoring_access_is_ready_but_may_be_cold(
    empty_cloud: CloudFakes,
) -> None:
    empty_cloud.monitoring.fail("*", grpc.StatusCode.PERMISSION_DENIED)

    status = empty_cloud.platform.status()

    assert status.state is ServiceState.READY
    assert "may be cold" in status.detail
    assert "roles/monitoring.viewer" in status.detail


def test_a_floor_above_zero_is_ready_without_asking_monitoring(cloud: CloudFakes) -> None:
    cloud.platform.scale(min_instances=1)
    before = len(cloud.monitoring.requests)

    status = cloud.platform.status()

    assert status.state is ServiceState.READY
    assert status.min_instances == 1
    assert len(cloud.monitoring.requests) == before


def test_a_missing_service_raises_an_error_that_says_how_to_deploy(cloud: CloudFakes) -> None:
    del cloud.run.services[cloud.target.name]

    with pytest.raises(CloudError, match=r"python -m deploy apply"):
        cloud.platform.status()


def test_status_without_permission_names_the_viewer_role(cloud: CloudFakes) -> None:
    cloud.run.fail("GetService", grpc.StatusCode.PERMISSION_DENIED)

    with pytest.raises(CloudError, match=r"roles/run\.viewer"):
        cloud.platform.status()


def test_scale_sends_the_floor_and_ceiling_through_the_deployer(cloud: CloudFakes) -> None:
    result = cloud.platform.scale(min_instances=1, max_instances=2)

    assert result.ok, result.message
    (request,) = cloud.run.requests_for("UpdateService")[-1:]
    assert request.service.name == cloud.target.name
    assert request.service.scaling.min_instance_count == 1
    assert request.service.scaling.max_instance_count == 2
    # Scaling is a service-level change: the template (and so the revision) is untouched.
    assert cloud.deployer.status().latest_created_revision == cloud.revision
    assert "floor 1, ceiling 2" in result.message


def test_scale_to_zero_keeps_the_ceiling(cloud: CloudFakes) -> None:
    cloud.platform.scale(min_instances=1, max_instances=2)

    result = cloud.platform.scale(min_instances=0)

    assert result.ok, result.message
    scaling = cloud.run.requests_for("UpdateService")[-1].service.scaling
    assert (scaling.min_instance_count, scaling.max_instance_count) == (0, 2)
    assert "scaled to zero when idle" in result.message


def test_scale_without_permission_is_a_failed_action_naming_run_developer(
    cloud: CloudFakes,
) -> None:
    cloud.run.fail("UpdateService", grpc.StatusCode.PERMISSION_DENIED, "Permission denied")

    result = cloud.platform.scale(min_instances=1)

    assert not result.ok
    assert "roles/run.developer" in result.message


def test_scale_over_gpu_quota_is_a_failed_action_about_quota(cloud: CloudFakes) -> None:
    cloud.run.fail("UpdateService", grpc.StatusCode.RESOURCE_EXHAUSTED, "GPU quota")

    result = cloud.platform.scale(min_instances=3, max_instances=3)

    assert not result.ok
    assert "Quota exceeded" in result.message
    assert "L4" in result.message


def test_a_floor_above_the_ceiling_is_refused_before_calling_cloud_run(cloud: CloudFakes) -> None:
    before = len(cloud.run.requests_for("UpdateService"))

    result = cloud.platform.scale(min_instances=3, max_instances=1)

    assert not result.ok
    assert "not above the ceiling" in result.message
    assert len(cloud.run.requests_for("UpdateService")) == before


def test_requests_wait_for_a_cold_start_as_long_as_the_deployed_probe_allows(
    cloud: CloudFakes,
) -> None:
    service = cloud.run.services[cloud.target.name]
    probe = service.template.containers[0].startup_probe
    probe.initial_delay_seconds, probe.period_seconds, probe.failure_threshold = 200, 10, 20

    window = cloud.platform.startup_window_s()

    assert window == 200 + 20 * 10 + 30  # the probe's window and Cloud Run's routing margin
    assert cloud.platform.client_settings().admission_timeout_s == window


def test_requests_in_flight_follow_every_instance_the_service_may_run(cloud: CloudFakes) -> None:
    """Issue 32, item 1: one L4's slots would never make Cloud Run add a second instance;
    the console keeps each instance's slots busy up to the service's ceiling."""
    service = cloud.run.services[cloud.target.name]
    service.scaling.max_instance_count = 3
    cloud.run.services[cloud.target.name] = service
    cloud.platform.status()

    per_instance = ClientSettings().concurrency  # vLLM's --max-num-seqs, 8
    assert cloud.platform.client_settings().concurrency == 3 * per_instance


def test_a_cap_on_requests_in_flight_holds(
    cloud: CloudFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = cloud.run.services[cloud.target.name]
    service.scaling.max_instance_count = 5
    cloud.run.services[cloud.target.name] = service
    monkeypatch.setenv("LIGHTONOCR_MAX_IN_FLIGHT", "12")
    cloud.platform.status()

    assert cloud.platform.client_settings().concurrency == 12
