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
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Point = tuple[dt.datetime, float]


@dataclass(frozen=True, slots=True)
class Rates:
    gpu_per_second: float = 0.0001867
    vcpu_per_second: float = 0.000018
    gib_per_second: float = 0.000002
    currency: str = "USD"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Rates:
        env = os.environ if env is None else env
        base = cls()
        return cls(
            gpu_per_second=float(env.get("LIGHTONOCR_RATE_GPU_S", base.gpu_per_second)),
            vcpu_per_second=float(env.get("LIGHTONOCR_RATE_VCPU_S", base.vcpu_per_second)),
            gib_per_second=float(env.get("LIGHTONOCR_RATE_GIB_S", base.gib_per_second)),
            currency=env.get("LIGHTONOCR_CURRENCY", base.currency),
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
) -> CostReport:
    """Integrate the instance count (a step function: each sample holds until the next one,
    the last until `end`) and split it by UTC day; an interval with no request in it is idle.

    `requests` are (time, requests counted at that sample) points, e.g. request_count deltas.
    """
    rates = rates or Rates()
    per_second = (shape or InstanceShape()).cost_per_second(rates)
    ordered = sorted(instances)
    request_times = sorted(t for t, count in requests if count > 0)
    total = idle = 0.0
    per_day: dict[dt.date, float] = defaultdict(float)
    for index, (start, count) in enumerate(ordered):
        stop = ordered[index + 1][0] if index + 1 < len(ordered) else end
        if count <= 0 or stop <= start:
            continue
        seconds = (stop - start).total_seconds() * count
        total += seconds
        if not any(start <= t < stop for t in request_times):
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


__all__ = ["CostReport", "InstanceShape", "Rates", "estimate_cost"]
