"""The cloudrun platform's revisions, traffic and requests in flight: real google-cloud
clients against the fake Run and Monitoring servers."""

from __future__ import annotations

from datetime import timedelta

import grpc

from deploy import ServiceSpec
from tests.fakes.cloud import CloudFakes
from tests.fakes.google_monitoring import PREFIX, RawSeries


def _second_revision(cloud: CloudFakes) -> tuple[str, str]:
    first = cloud.revision
    env = {"HF_HUB_OFFLINE": "1", "MODEL_REVISION": "c70b084"}
    second = cloud.deployer.apply(ServiceSpec(tag="c0ffee1", env=env)).latest_ready_revision
    return first, second


def test_revisions_list_image_model_revision_created_and_traffic(cloud: CloudFakes) -> None:
    first, second = _second_revision(cloud)
    revisions = cloud.platform.revisions()
    assert [r.name for r in revisions] == [second, first]
    assert [r.traffic_percent for r in revisions] == [100, 0]
    assert revisions[0].image.endswith(":c0ffee1")
    assert [r.model_revision for r in revisions] == ["c70b084", ""]
    assert revisions[0].created is not None and revisions[0].created > revisions[1].created


def test_set_traffic_splits_between_two_revisions(cloud: CloudFakes) -> None:
    first, second = _second_revision(cloud)
    result = cloud.platform.set_traffic({second: 75, first: 25})
    assert result.ok, result.message
    assert {r.name: r.traffic_percent for r in cloud.platform.revisions()} == {
        second: 75,
        first: 25,
    }
    request = cloud.run.requests_for("UpdateService")[-1]
    assert list(request.update_mask.paths) == ["traffic"]


def test_a_traffic_change_run_refuses_comes_back_as_a_failed_result(cloud: CloudFakes) -> None:
    first, _ = _second_revision(cloud)
    cloud.run.fail("UpdateService", grpc.StatusCode.PERMISSION_DENIED)
    result = cloud.platform.set_traffic({first: 100})
    assert not result.ok
    assert "roles/run.developer" in result.message


def test_requests_in_flight_count_the_last_minutes_requests(empty_cloud: CloudFakes) -> None:
    now = empty_cloud.now
    empty_cloud.monitoring.add(
        RawSeries(
            PREFIX + "request_count",
            [(now - timedelta(seconds=20), 7.0), (now - timedelta(minutes=5), 40.0)],
            metric_labels={"response_code_class": "2xx"},
            revision=empty_cloud.revision,
        )
    )
    assert empty_cloud.platform.requests_in_flight() == 7


def test_requests_in_flight_are_unknown_when_monitoring_refuses(cloud: CloudFakes) -> None:
    cloud.monitoring.fail(PREFIX + "request_count", grpc.StatusCode.PERMISSION_DENIED)
    assert cloud.platform.requests_in_flight() is None
