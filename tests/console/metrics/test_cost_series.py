"""The cost panel's figures from the Metrics page's own series, worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from console.metrics._cost import InstanceShape, Rates, cost_of_series, sampling_period
from console.platforms._base import MetricKey, MetricSeries

T0 = dt.datetime(2026, 11, 28, 23, 58, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
RATES = Rates(gpu_per_second=0.001, vcpu_per_second=0.0001, gib_per_second=0.00001)
SHAPE = InstanceShape(gpus=1, vcpus=2, memory_gib=4)
PER_SECOND = 0.00124


def minute(n: int) -> dt.datetime:
    return T0 + n * MINUTE


def line(key: MetricKey, label: str, values: list[float]) -> MetricSeries:
    """One point per minute from minute 1 on, as Monitoring aligns them."""
    return MetricSeries(key, label, "", [(minute(i + 1), v) for i, v in enumerate(values)])


def test_active_and_idle_instances_are_both_billed_and_summed_per_minute() -> None:
    series = [
        line(MetricKey.INSTANCE_COUNT, "active", [1, 1, 0, 0]),
        line(MetricKey.INSTANCE_COUNT, "idle", [0, 1, 1, 1]),
        line(MetricKey.REQUEST_COUNT, "2xx", [30, 6, 0, 0]),
        line(MetricKey.REQUEST_COUNT, "5xx", [0, 0, 2, 0]),
    ]
    report = cost_of_series(series, end=minute(5), rates=RATES, shape=SHAPE)
    assert report is not None
    # Minutes 1..4 hold 1, 2, 1, 1 instances: 5 instance-minutes = 300 instance-seconds.
    assert report.instance_seconds == 300
    assert report.cost == pytest.approx(300 * PER_SECOND)
    # Pages are the 2xx answers (36); minute 4 answered nothing at all: 60 s idle (minute 3
    # answered two 5xx: busy, though it made no page).
    assert report.requests == 36
    assert report.idle_instance_seconds == 60
    assert report.idle_cost == pytest.approx(60 * PER_SECOND)
    assert report.pages_per_unit == pytest.approx(36 / (300 * PER_SECOND))


def test_the_window_is_priced_per_utc_day() -> None:
    # Points at 23:59, 00:00, 00:01 (60 s each): 23:58-23:59 and 23:59-00:00 are the 28th.
    series = [line(MetricKey.INSTANCE_COUNT, "active", [1, 1, 1])]
    report = cost_of_series(series, end=minute(4), rates=RATES, shape=SHAPE)
    assert report is not None
    assert report.per_day == {
        dt.date(2026, 11, 28): pytest.approx(120 * PER_SECOND),
        dt.date(2026, 11, 29): pytest.approx(60 * PER_SECOND),
    }


def test_no_instance_points_means_nothing_to_price() -> None:
    assert cost_of_series([line(MetricKey.REQUEST_COUNT, "2xx", [3])], end=minute(2)) is None


def test_the_period_is_the_spacing_of_the_points() -> None:
    assert sampling_period([minute(0), minute(5), minute(10), minute(5)]) == 5 * MINUTE
    assert sampling_period([minute(0)]) is None


def test_cloud_runs_billable_instance_time_is_kept_beside_the_estimate() -> None:
    # Issue 31, item 11: the estimate is cross-checked against what Cloud Run bills.
    series = [
        line(MetricKey.INSTANCE_COUNT, "active", [1, 1, 1, 1]),
        line(MetricKey.BILLABLE_INSTANCE_TIME, "billable", [60, 60, 60, 55]),
    ]
    report = cost_of_series(series, end=minute(5), rates=RATES, shape=SHAPE)
    assert report is not None
    assert (report.instance_seconds, report.billable_seconds) == (240, 235)
    assert report.disagreement is None  # within a minute's rounding


def test_an_estimate_far_from_the_billable_instance_time_says_so() -> None:
    # Monitoring dropped half the instance-count points: the estimate prices half the bill.
    series = [
        line(MetricKey.INSTANCE_COUNT, "active", [1, 0, 1, 0, 1, 0, 1, 0]),
        line(MetricKey.BILLABLE_INSTANCE_TIME, "billable", [60] * 8),
    ]
    report = cost_of_series(series, end=minute(9), rates=RATES, shape=SHAPE)
    assert report is not None
    assert report.disagreement is not None
    assert "0.13 billable instance-hours" in report.disagreement
    assert "prices 0.07" in report.disagreement
