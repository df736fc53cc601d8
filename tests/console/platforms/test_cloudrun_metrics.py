"""CloudRunPlatform metrics: the real Monitoring client against a fake Monitoring server that
aggregates like Cloud Monitoring (and refuses aligners Monitoring would refuse)."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.cloud import monitoring_v3

from console.metrics._cost import InstanceShape, cost_of_series
from console.platforms._base import MetricKey, MetricSeries
from console.platforms._cloudrun_metrics import alignment_period
from deploy import CloudError
from tests.fakes.cloud import CloudFakes
from tests.fakes.google_monitoring import PREFIX, RawSeries

Aligner = monitoring_v3.Aggregation.Aligner
Reducer = monitoring_v3.Aggregation.Reducer
HOUR = timedelta(hours=1)


def lines(series: list[MetricSeries], key: MetricKey) -> dict[str, MetricSeries]:
    return {s.label: s for s in series if s.key is key}


def aggregations(cloud: CloudFakes, metric: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (
            Aligner(r.aggregation.per_series_aligner).name,
            Reducer(r.aggregation.cross_series_reducer).name,
            tuple(r.aggregation.group_by_fields),
        )
        for r in cloud.monitoring.requests_for(PREFIX + metric)
    }


@pytest.mark.parametrize(
    ("window", "period_s"),
    [(HOUR, 60), (6 * HOUR, 300), (24 * HOUR, 600), (7 * 24 * HOUR, 3600)],
)
def test_the_alignment_period_grows_with_the_window(window: timedelta, period_s: int) -> None:
    assert alignment_period(window) == timedelta(seconds=period_s)


def test_every_request_covers_the_window_for_this_service(cloud: CloudFakes) -> None:
    cloud.platform.metrics(6 * HOUR)

    assert cloud.monitoring.requests
    for request in cloud.monitoring.requests:
        assert request.name == "projects/demo-project"
        assert 'resource.type="cloud_run_revision"' in request.filter
        assert 'resource.labels.service_name="lightonocr"' in request.filter
        assert request.interval.end_time == cloud.now
        assert request.interval.start_time == cloud.now - 6 * HOUR
        assert request.aggregation.alignment_period == timedelta(minutes=5)


def test_latencies_merge_revisions_then_take_percentiles(cloud: CloudFakes) -> None:
    cloud.platform.metrics(HOUR)

    expected = {("ALIGN_DELTA", f"REDUCE_PERCENTILE_{p}", ()) for p in ("50", "95", "99")}
    assert aggregations(cloud, "container/startup_latencies") == expected
    assert aggregations(cloud, "request_latencies") == expected


def test_utilisations_take_each_revisions_percentile_then_the_worst(cloud: CloudFakes) -> None:
    cloud.platform.metrics(HOUR)

    expected = {(f"ALIGN_PERCENTILE_{p}", "REDUCE_MAX", ()) for p in ("50", "99")}
    metrics = (
        "memory/utilizations",
        "cpu/utilizations",
        "gpu/memory_utilizations",
        "gpu/utilizations",
    )
    for metric in metrics:
        assert aggregations(cloud, f"container/{metric}") == expected


def test_startup_latency_percentiles_are_in_seconds(empty_cloud: CloudFakes) -> None:
    at = empty_cloud.now - timedelta(minutes=10)
    samples_ms = [5000.0 * i for i in range(1, 21)]  # 5 s .. 100 s
    empty_cloud.monitoring.add(
        RawSeries(PREFIX + "container/startup_latencies", [(at, samples_ms[:10])]),
        RawSeries(
            PREFIX + "container/startup_latencies",
            [(at, samples_ms[10:])],
            revision="lightonocr-00002-new",
        ),
    )

    startup = lines(empty_cloud.platform.metrics(HOUR), MetricKey.STARTUP_LATENCY_S)

    assert {label: s.points[0][1] for label, s in startup.items()} == {
        "p50": 50.0,
        "p95": 95.0,
        "p99": 100.0,
    }
    assert {s.unit for s in startup.values()} == {"s"}


def test_utilisation_is_a_ratio_from_the_worst_revision(empty_cloud: CloudFakes) -> None:
    at = empty_cloud.now - timedelta(minutes=3)
    empty_cloud.monitoring.add(
        RawSeries(PREFIX + "container/memory/utilizations", [(at, [0.5, 0.6, 0.7])]),
        RawSeries(
            PREFIX + "container/memory/utilizations",
            [(at, [0.9, 0.93, 0.95])],
            revision="lightonocr-00002-new",
        ),
    )

    memory = lines(empty_cloud.platform.metrics(HOUR), MetricKey.MEMORY_UTILIZATION)

    assert memory["p50"].points[0][1] == pytest.approx(0.93)
    assert memory["p99"].points[0][1] == pytest.approx(0.95)
    assert memory["p99"].unit == "ratio"


def test_instance_count_is_split_by_state(cloud: CloudFakes) -> None:
    instances = lines(cloud.platform.metrics(HOUR), MetricKey.INSTANCE_COUNT)

    assert set(instances) == {"active", "idle"}
    assert aggregations(cloud, "container/instance_count") >= {
        ("ALIGN_MAX", "REDUCE_SUM", ("metric.labels.state",))
    }
    assert max(v for _, v in instances["active"].points) == 1.0


def test_error_rate_is_5xx_over_all_requests_per_period(empty_cloud: CloudFakes) -> None:
    first = empty_cloud.now - timedelta(minutes=2, seconds=30)
    second = empty_cloud.now - timedelta(minutes=1, seconds=30)
    for code_class, counts in (("2xx", (90.0, 40.0)), ("4xx", (0.0, 10.0)), ("5xx", (10.0, 0.0))):
        empty_cloud.monitoring.add(
            RawSeries(
                PREFIX + "request_count",
                [(first, counts[0]), (second, counts[1])],
                metric_labels={"response_code_class": code_class},
            )
        )

    series = empty_cloud.platform.metrics(HOUR)

    assert set(lines(series, MetricKey.REQUEST_COUNT)) == {"2xx", "4xx", "5xx"}
    assert [v for _, v in lines(series, MetricKey.ERROR_RATE)["5xx"].points] == [0.1, 0.0]
    assert aggregations(empty_cloud, "request_count") == {
        ("ALIGN_DELTA", "REDUCE_SUM", ("metric.labels.response_code_class",))
    }


def test_points_are_in_time_order(cloud: CloudFakes) -> None:
    for line in cloud.platform.metrics(HOUR):
        times = [at for at, _ in line.points]
        assert times == sorted(times), line.label


def test_a_gpu_metric_monitoring_does_not_know_gives_no_series(cloud: CloudFakes) -> None:
    cloud.monitoring.fail(PREFIX + "container/gpu/memory_utilizations", grpc.StatusCode.NOT_FOUND)

    series = cloud.platform.metrics(HOUR)

    assert not lines(series, MetricKey.GPU_MEMORY_UTILIZATION)
    assert lines(series, MetricKey.MEMORY_UTILIZATION)


def test_a_service_without_data_gives_no_series_and_no_error(empty_cloud: CloudFakes) -> None:
    assert empty_cloud.platform.metrics(HOUR) == []


def test_metrics_without_permission_name_the_monitoring_viewer_role(cloud: CloudFakes) -> None:
    cloud.monitoring.fail("*", grpc.StatusCode.PERMISSION_DENIED)

    with pytest.raises(CloudError, match=r"roles/monitoring\.viewer"):
        cloud.platform.metrics(HOUR)


def test_one_failing_query_marks_its_own_chart_and_leaves_the_others(cloud: CloudFakes) -> None:
    cloud.monitoring.fail(
        PREFIX + "request_latencies", grpc.StatusCode.INVALID_ARGUMENT, "aligner refused"
    )

    series = cloud.platform.metrics(HOUR)

    latency = lines(series, MetricKey.REQUEST_LATENCY_S)
    assert set(latency) == {"p50", "p95", "p99"}
    assert all(not s.points for s in latency.values())
    assert all("request_latencies" in s.error for s in latency.values())
    assert all("aligner refused" in s.error for s in latency.values())
    memory = lines(series, MetricKey.MEMORY_UTILIZATION)
    assert memory["p99"].points and not memory["p99"].error


def test_a_failed_request_count_marks_the_error_rate_too(cloud: CloudFakes) -> None:
    cloud.monitoring.fail(PREFIX + "request_count", grpc.StatusCode.DEADLINE_EXCEEDED, "slow")

    series = cloud.platform.metrics(HOUR)

    [rate] = lines(series, MetricKey.ERROR_RATE).values()
    assert rate.points == [] and "request_count" in rate.error
    assert lines(series, MetricKey.INSTANCE_COUNT)["active"].points


def test_a_twenty_minute_instance_on_the_7_day_view_is_billed_twenty_minutes(
    empty_cloud: CloudFakes,
) -> None:
    start = empty_cloud.now - timedelta(days=3, minutes=30)
    minutes = [start + timedelta(minutes=n) for n in range(20)]  # Cloud Run samples per minute
    empty_cloud.monitoring.add(
        RawSeries(
            PREFIX + "container/instance_count",
            [(at, 1.0) for at in minutes],
            metric_labels={"state": "active"},
        )
    )

    series, size = empty_cloud.platform.billing(7 * 24 * HOUR)
    assert size is not None
    shape = InstanceShape(size.gpus, size.vcpus, size.memory_gib)
    report = cost_of_series(series, end=empty_cloud.now, shape=shape)

    assert report is not None
    assert report.instance_seconds == 20 * 60
    # The charts' hour-long ALIGN_MAX would have billed the whole hour.
    assert alignment_period(7 * 24 * HOUR) == HOUR


def test_the_instance_is_priced_at_its_deployed_size(empty_cloud: CloudFakes) -> None:
    _series, size = empty_cloud.platform.billing(HOUR)
    service = empty_cloud.run.services[empty_cloud.target.name]
    limits = service.template.containers[0].resources.limits
    assert size is not None
    assert (size.gpus, size.vcpus) == (1, float(limits["cpu"]))
    assert size.memory_gib == 32


def test_the_gpus_compute_is_charted_beside_its_reserved_memory(cloud: CloudFakes) -> None:
    series = cloud.platform.metrics(HOUR)

    compute = lines(series, MetricKey.GPU_UTILIZATION)
    memory = lines(series, MetricKey.GPU_MEMORY_UTILIZATION)
    assert compute and memory
    assert max(v for line in compute.values() for _t, v in line.points) == 0.65


def test_the_cost_reads_cloud_runs_billable_instance_time_beside_the_instance_count(
    cloud: CloudFakes,
) -> None:
    # Issue 31, item 11: the seeded hour bills 60 s a minute, 120 s every third minute.
    series, _size = cloud.platform.billing(HOUR)
    report = cost_of_series(series, end=cloud.now)

    assert report is not None
    assert report.billable_seconds == pytest.approx(50 * 60 + 17 * 60)
    assert report.disagreement is None  # the estimate agrees with what Cloud Run bills
