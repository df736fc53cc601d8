"""What the GPU service costs: instance time from the instance-count metric, times the rates.

A GPU service on Cloud Run uses instance-based billing: every second an instance lives is
billed for its GPU, vCPUs and memory, whether it serves or idles. So the cost of a window is
the area under the instance-count curve times the price of one instance-second, and the idle
cost is the part of that area where no request arrived.

Default rates (`LIGHTONOCR_RATE_*`, USD per second) are Cloud Run's published Tier 1 prices
for instance-based billing (cloud.google.com/run/pricing): NVIDIA L4 without zonal
redundancy 0.0001867 per GPU-second (about 0.67 an hour), 0.000018 per vCPU-second and
0.000002 per GiB-second. They change and differ by region: set them from the pricing page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from console.platforms._base import MetricKey, MetricSeries
from console.settings import CURRENCY, RATE_GIB_S, RATE_GPU_S, RATE_VCPU_S, ConsoleSettings

Point = tuple[dt.datetime, float]
# How far the estimate may stray from Cloud Run's billable instance time before it says so:
# the instance count is a one-minute mean, so minutes at an instance's start and end differ.
BILLABLE_TOLERANCE = 0.10
BILLABLE_SLACK_S = 120.0


@dataclass(frozen=True, slots=True)
class Rates:
    gpu_per_second: float = RATE_GPU_S.default
    vcpu_per_second: float = RATE_VCPU_S.default
    gib_per_second: float = RATE_GIB_S.default
    currency: str = CURRENCY.default

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Rates:
        settings = ConsoleSettings.from_env(env)
        return cls(
            gpu_per_second=settings.rate_gpu_s,
            vcpu_per_second=settings.rate_vcpu_s,
            gib_per_second=settings.rate_gib_s,
            currency=settings.currency,
        )


@dataclass(frozen=True, slots=True)
class InstanceShape:
    """What one instance is billed for; defaults are the deploy spec's (1 L4, 8 vCPU, 32 GiB)."""

    gpus: int = 1
    vcpus: float = 8
    memory_gib: float = 32

    def cost_per_second(self, rates: Rates) -> float:
        return (
            self.gpus * rates.gpu_per_second
            + self.vcpus * rates.vcpu_per_second
            + self.memory_gib * rates.gib_per_second
        )


@dataclass(frozen=True, slots=True)
class CostReport:
    instance_seconds: float
    idle_instance_seconds: float
    cost: float
    idle_cost: float
    requests: float
    currency: str
    # Cost by UTC day, for the days the window touches.
    per_day: dict[dt.date, float] = field(default_factory=dict)
    # Cloud Run's own `container/billable_instance_time` over the window (None: not read).
    billable_seconds: float | None = None

    @property
    def disagreement(self) -> str | None:
        """Why the estimate should not be trusted, when Cloud Run's billable instance time
        differs from the instance time priced here by more than BILLABLE_TOLERANCE."""
        if self.billable_seconds is None:
            return None
        gap = abs(self.billable_seconds - self.instance_seconds)
        if gap <= max(BILLABLE_TOLERANCE * self.billable_seconds, BILLABLE_SLACK_S):
            return None
        return (
            f"Cloud Run counts {self.billable_seconds / 3600:,.2f} billable instance-hours, "
            f"the estimate prices {self.instance_seconds / 3600:,.2f}: the bill follows "
            "Cloud Run's figure (an instance count missing minutes, a region's other rates)"
        )

    @property
    def pages_per_unit(self) -> float | None:
        """Pages (one request is one page) per currency unit; None before anything was spent."""
        return self.requests / self.cost if self.cost > 0 else None


def estimate_cost(
    instances: Sequence[Point],
    requests: Sequence[Point],
    *,
    end: dt.datetime,
    rates: Rates | None = None,
    shape: InstanceShape | None = None,
    period: dt.timedelta | None = None,
) -> CostReport:
    """Integrate the instance count and split it by UTC day; an interval with no request in
    it is idle.

    Without `period` the count is a step function: each sample holds until the next one, the
    last until `end`. With `period` each sample is an aligned point, as Cloud Monitoring
    returns them: the value over the `period` that ends at its timestamp, and the requests
    stamped with that same end time are that period's.

    `requests` are (time, requests counted at that sample) points, e.g. request_count deltas.
    """
    rates = rates or Rates()
    per_second = (shape or InstanceShape()).cost_per_second(rates)
    request_times = sorted(t for t, count in requests if count > 0)
    total = idle = 0.0
    per_day: dict[dt.date, float] = defaultdict(float)
    for start, stop, count in _intervals(sorted(instances), end, period):
        if count <= 0 or stop <= start:
            continue
        seconds = (stop - start).total_seconds() * count
        total += seconds
        if period is None:
            busy = any(start <= t < stop for t in request_times)
        else:
            busy = any(start < t <= stop for t in request_times)
        if not busy:
            idle += seconds
        for day, day_seconds in _split_by_day(start, stop):
            per_day[day] += day_seconds * count * per_second
    return CostReport(
        instance_seconds=total,
        idle_instance_seconds=idle,
        cost=total * per_second,
        idle_cost=idle * per_second,
        requests=sum(count for _t, count in requests),
        currency=rates.currency,
        per_day=dict(per_day),
    )


def _intervals(
    ordered: Sequence[Point], end: dt.datetime, period: dt.timedelta | None
) -> list[tuple[dt.datetime, dt.datetime, float]]:
    if period is not None:
        return [(at - period, at, count) for at, count in ordered]
    stops = [at for at, _count in ordered[1:]] + [end]
    return [(at, stop, count) for (at, count), stop in zip(ordered, stops, strict=True)]


def sampling_period(times: Iterable[dt.datetime]) -> dt.timedelta | None:
    """The spacing of aligned points: the smallest gap between two distinct timestamps."""
    distinct = sorted(set(times))
    gaps = [b - a for a, b in pairwise(distinct)]
    return min(gaps) if gaps else None


def cost_of_series(
    series: Iterable[MetricSeries],
    *,
    end: dt.datetime,
    rates: Rates | None = None,
    shape: InstanceShape | None = None,
    default_period: dt.timedelta = dt.timedelta(seconds=60),
) -> CostReport | None:
    """The cost of a Cloud Run window from the Metrics page's own series: the instance count
    (summed over its states, active and idle alike: both are billed) and the request count
    (any answer makes a period busy; the 2xx answers are the pages, and since health checks
    and scrapes are answered too, pages per unit is a ceiling). Cloud Run's own
    `container/billable_instance_time`, when among the series, is kept beside the estimate
    as its cross-check (`CostReport.disagreement`).

    None when the instance count has no point (nothing to price).
    """
    lines = list(series)
    instances: dict[dt.datetime, float] = defaultdict(float)
    for line in lines:
        if line.key is MetricKey.INSTANCE_COUNT:
            for at, value in line.points:
                instances[at] += value
    if not instances:
        return None
    answered = [
        point for line in lines if line.key is MetricKey.REQUEST_COUNT for point in line.points
    ]
    pages = sum(
        value
        for line in lines
        if line.key is MetricKey.REQUEST_COUNT and line.label == "2xx"
        for _at, value in line.points
    )
    period = sampling_period(instances) or default_period
    report = estimate_cost(
        sorted(instances.items()), answered, end=end, rates=rates, shape=shape, period=period
    )
    billable = [line for line in lines if line.key is MetricKey.BILLABLE_INSTANCE_TIME]
    billed = sum(v for line in billable for _at, v in line.points) if billable else None
    return replace(report, requests=pages, billable_seconds=billed)


def _split_by_day(start: dt.datetime, stop: dt.datetime) -> list[tuple[dt.date, float]]:
    parts = []
    while start < stop:
        midnight = dt.datetime.combine(
            start.date() + dt.timedelta(days=1), dt.time(), tzinfo=start.tzinfo
        )
        piece_end = min(midnight, stop)
        parts.append((start.date(), (piece_end - start).total_seconds()))
        start = piece_end
    return parts


__all__ = [
    "CostReport",
    "InstanceShape",
    "Rates",
    "cost_of_series",
    "estimate_cost",
    "sampling_period",
]
