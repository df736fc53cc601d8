"""Cost arithmetic against cases worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from console.metrics._cost import InstanceShape, Rates, estimate_cost

T0 = dt.datetime(2026, 11, 28, 22, 0, tzinfo=dt.UTC)
# One instance-second at simple rates: 1 GPU x 0.001 + 2 vCPU x 0.0001 + 4 GiB x 0.00001.
RATES = Rates(gpu_per_second=0.001, vcpu_per_second=0.0001, gib_per_second=0.00001)
SHAPE = InstanceShape(gpus=1, vcpus=2, memory_gib=4)
PER_SECOND = 0.001 + 0.0002 + 0.00004


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_one_instance_for_an_hour_costs_an_hour_of_instance_seconds():
    report = estimate_cost([(at(0), 1)], [(at(30), 120)], end=at(60), rates=RATES, shape=SHAPE)
    assert report.instance_seconds == 3600
    assert report.cost == pytest.approx(3600 * PER_SECOND)
    assert report.idle_instance_seconds == 0


def test_two_instances_count_twice_and_zero_counts_nothing():
    report = estimate_cost(
        [(at(0), 2), (at(10), 0), (at(20), 1)], [], end=at(30), rates=RATES, shape=SHAPE
    )
    # 2 x 600 s + 0 + 1 x 600 s
    assert report.instance_seconds == 1800


def test_intervals_without_requests_are_idle():
    report = estimate_cost(
        [(at(0), 1), (at(10), 1), (at(20), 1)],
        [(at(12), 5)],
        end=at(30),
        rates=RATES,
        shape=SHAPE,
    )
    assert report.idle_instance_seconds == 1200
    assert report.idle_cost == pytest.approx(1200 * PER_SECOND)


def test_cost_is_split_at_utc_midnight():
    report = estimate_cost([(at(0), 1)], [], end=at(180), rates=RATES, shape=SHAPE)
    assert report.per_day == {
        dt.date(2026, 11, 28): pytest.approx(7200 * PER_SECOND),
        dt.date(2026, 11, 29): pytest.approx(3600 * PER_SECOND),
    }


def test_pages_per_currency_unit_follows_requests_over_cost():
    report = estimate_cost(
        [(at(0), 1)], [(at(1), 100), (at(2), 50)], end=at(60), rates=RATES, shape=SHAPE
    )
    assert report.requests == 150
    assert report.pages_per_unit == pytest.approx(150 / (3600 * PER_SECOND))


def test_nothing_running_costs_nothing_and_has_no_pages_per_unit():
    report = estimate_cost([(at(0), 0)], [], end=at(60), rates=RATES, shape=SHAPE)
    assert report.cost == 0
    assert report.pages_per_unit is None


def test_default_rates_price_an_l4_instance_hour_near_the_published_figure():
    # 0.0001867 x 3600 (GPU) + 8 x 0.000018 x 3600 + 32 x 0.000002 x 3600 = 1.4209 USD
    assert InstanceShape().cost_per_second(Rates()) * 3600 == pytest.approx(1.42092, abs=1e-4)


def test_rates_come_from_the_environment():
    rates = Rates.from_env({"LIGHTONOCR_RATE_GPU_S": "0.0002", "LIGHTONOCR_CURRENCY": "EUR"})
    assert (rates.gpu_per_second, rates.currency) == (0.0002, "EUR")


def test_aligned_points_cover_the_period_that_ends_at_their_timestamp():
    # Monitoring's points at 10:01 and 10:02 with 60 s periods cover 10:00-10:02: 2 x 60 s.
    report = estimate_cost(
        [(at(1), 1), (at(2), 1)],
        [(at(2), 4)],
        end=at(60),
        rates=RATES,
        shape=SHAPE,
        period=dt.timedelta(minutes=1),
    )
    assert report.instance_seconds == 120
    # The requests stamped 10:02 belong to the period 10:01-10:02; 10:00-10:01 was idle.
    assert report.idle_instance_seconds == 60
