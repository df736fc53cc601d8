"""An in-process Cloud Monitoring v3 `ListTimeSeries` server on loopback.

The real `MetricServiceClient` talks to it over gRPC (as Google's own exporter tests do). It
holds raw data (samples for distribution metrics, numbers for the rest) and applies the
request's aggregation the way Monitoring does: per-series alignment into periods ending at the
interval's end, then a cross-series reduction grouped by the requested labels. It refuses
aligner/metric-kind combinations that Monitoring refuses (ALIGN_DELTA on a gauge, ALIGN_MAX on
a distribution, a percentile of numbers), so a wrong aligner fails here as it would in Cloud.

Every request is recorded; any metric type (or all) can be made to fail with a gRPC status.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import grpc
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import (
    MetricServiceGrpcTransport,
)

from tests.fakes._grpc import LoopbackGrpc

SERVICE_NAME = "google.monitoring.v3.MetricService"
PREFIX = "run.googleapis.com/"

# Cloud Run's metric descriptors: metric type -> (kind, value type).
CLOUD_RUN_METRICS: dict[str, tuple[str, str]] = {
    PREFIX + "container/startup_latencies": ("DELTA", "DISTRIBUTION"),
    PREFIX + "container/memory/utilizations": ("DELTA", "DISTRIBUTION"),
    PREFIX + "container/cpu/utilizations": ("DELTA", "DISTRIBUTION"),
    PREFIX + "container/gpu/memory_utilizations": ("GAUGE", "DISTRIBUTION"),
    PREFIX + "container/gpu/utilizations": ("GAUGE", "DISTRIBUTION"),
    PREFIX + "container/instance_count": ("GAUGE", "INT64"),
    PREFIX + "request_latencies": ("DELTA", "DISTRIBUTION"),
    PREFIX + "request_count": ("DELTA", "INT64"),
    PREFIX + "container/billable_instance_time": ("DELTA", "DOUBLE"),
}

Aligner = monitoring_v3.Aggregation.Aligner
Reducer = monitoring_v3.Aggregation.Reducer

_METRIC_TYPE = re.compile(r'metric\.type="([^"]+)"')
_SERVICE = re.compile(r'resource\.labels\.service_name="([^"]+)"')


@dataclass
class RawSeries:
    """One stream of raw data: `points` hold a list of samples for distributions."""

    metric_type: str
    points: list[tuple[datetime, float | list[float]]]
    metric_labels: dict[str, str] = field(default_factory=dict)
    service: str = "lightonocr"
    revision: str = "lightonocr-00001-abc"


def _percentile(values: list[float], pct: int) -> float:
    """Nearest-rank percentile (what a test can compute by eye)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _pct_of(name: str) -> int | None:
    match = re.search(r"PERCENTILE_(\d\d)$", name)
    return int(match.group(1)) if match else None


def _check_aligner(aligner: str, kind: str, value_type: str) -> str | None:
    """Why Monitoring would refuse this aligner for this metric, or None."""
    distribution = value_type == "DISTRIBUTION"
    if aligner == "ALIGN_NONE":
        return None
    if aligner in ("ALIGN_DELTA", "ALIGN_RATE") and kind == "GAUGE":
        return f"{aligner} needs a DELTA or CUMULATIVE metric, not {kind}"
    if aligner in ("ALIGN_MAX", "ALIGN_MIN", "ALIGN_SUM", "ALIGN_RATE") and distribution:
        return f"{aligner} is not valid for a DISTRIBUTION metric"
    if _pct_of(aligner) is not None and not distribution:
        return f"{aligner} needs a DISTRIBUTION metric, not {value_type}"
    return None


def _check_reducer(reducer: str, aligned_is_distribution: bool) -> str | None:
    if reducer in ("REDUCE_MAX", "REDUCE_MIN") and aligned_is_distribution:
        return f"{reducer} is not valid for DISTRIBUTION values"
    return None


Value = float | list[float]


def _align(aligner: str, values: list[Value], period_s: float) -> Value:
    if aligner == "ALIGN_DELTA":
        if isinstance(values[0], list):
            return [sample for v in values for sample in v]  # type: ignore[union-attr]
        return float(sum(values))  # type: ignore[arg-type]
    if aligner == "ALIGN_RATE":
        return float(sum(values)) / period_s  # type: ignore[arg-type]
    if aligner == "ALIGN_MAX":
        return float(max(values))  # type: ignore[type-var]
    if aligner == "ALIGN_MEAN":
        flat = [s for v in values for s in (v if isinstance(v, list) else [v])]
        return sum(flat) / len(flat)
    pct = _pct_of(aligner)
    if pct is not None:
        return _percentile([s for v in values for s in v], pct)  # type: ignore[union-attr]
    raise ValueError(f"the fake does not implement {aligner}")


def _reduce(reducer: str, values: list[Value]) -> Value:
    flat = [s for v in values for s in (v if isinstance(v, list) else [v])]
    if reducer == "REDUCE_SUM":
        return flat if isinstance(values[0], list) else float(sum(flat))
    if reducer == "REDUCE_MAX":
        return float(max(flat))
    if reducer == "REDUCE_MEAN":
        return sum(flat) / len(flat)
    pct = _pct_of(reducer)
    if pct is not None:
        return _percentile(flat, pct)
    raise ValueError(f"the fake does not implement {reducer}")


def _output_type(aligner: str, reducer: str, value_type: str) -> str:
    """Percentiles, rates and means come back as doubles; sums and maxima keep their type."""
    averaged = aligner in ("ALIGN_RATE", "ALIGN_MEAN") or reducer == "REDUCE_MEAN"
    if averaged or _pct_of(aligner) is not None or _pct_of(reducer) is not None:
        return "DOUBLE"
    return value_type


def _typed(value: Value, value_type: str) -> monitoring_v3.TypedValue:
    if isinstance(value, list):
        mean = sum(value) / len(value) if value else 0.0
        return monitoring_v3.TypedValue(distribution_value={"count": len(value), "mean": mean})
    if value_type == "INT64":
        return monitoring_v3.TypedValue(int64_value=round(value))
    return monitoring_v3.TypedValue(double_value=value)


@dataclass
class FakeMonitoring:
    """Start with `start()` (or as a context manager); `client()` builds a real client for it."""

    series: list[RawSeries] = field(default_factory=list)
    requests: list[monitoring_v3.ListTimeSeriesRequest] = field(default_factory=list)
    # Metric type (or "*" for all) -> the status ListTimeSeries fails with.
    errors: dict[str, tuple[grpc.StatusCode, str]] = field(default_factory=dict)
    address: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._grpc = LoopbackGrpc()

    def fail(self, metric_type: str, code: grpc.StatusCode, message: str = "injected") -> None:
        self.errors[metric_type] = (code, message)

    def add(self, *series: RawSeries) -> None:
        with self._lock:
            self.series.extend(series)

    def requests_for(self, metric_type: str) -> list[monitoring_v3.ListTimeSeriesRequest]:
        with self._lock:
            return [r for r in self.requests if f'metric.type="{metric_type}"' in r.filter]

    # --- the RPC -----------------------------------------------------------------------------

    def _list(
        self, request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext
    ) -> monitoring_v3.ListTimeSeriesResponse:
        with self._lock:
            self.requests.append(request)
            stored = list(self.series)
        type_match = _METRIC_TYPE.search(request.filter)
        if type_match is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "filter must name a metric.type")
        metric_type = type_match.group(1)
        for key in (metric_type, "*"):
            if key in self.errors:
                context.abort(*self.errors[key])
        if metric_type not in CLOUD_RUN_METRICS:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"Cannot find metric(s) that match type = {metric_type}"
            )
        kind, value_type = CLOUD_RUN_METRICS[metric_type]
        end = request.interval.end_time
        start = request.interval.start_time
        if not end or not start:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "interval needs start and end times")
        aggregation = request.aggregation
        aligner = Aligner(aggregation.per_series_aligner).name
        reducer = Reducer(aggregation.cross_series_reducer).name
        period = aggregation.alignment_period
        refusal = _check_aligner(aligner, kind, value_type)
        if refusal is None and aligner != "ALIGN_NONE" and not period:
            refusal = "alignment_period is required with a per-series aligner"
        aligned_distribution = value_type == "DISTRIBUTION" and aligner in (
            "ALIGN_DELTA",
            "ALIGN_NONE",
        )
        if refusal is None:
            refusal = _check_reducer(reducer, aligned_distribution)
        if refusal is not None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, refusal)
        service = _SERVICE.search(request.filter)
        chosen = [
            s
            for s in stored
            if s.metric_type == metric_type and (service is None or s.service == service.group(1))
        ]
        return monitoring_v3.ListTimeSeriesResponse(
            time_series=self._aggregate(
                chosen, start, end, period, aligner, reducer, list(aggregation.group_by_fields)
            )
        )

    def _aggregate(
        self,
        chosen: list[RawSeries],
        start: datetime,
        end: datetime,
        period: timedelta,
        aligner: str,
        reducer: str,
        group_by: list[str],
    ) -> list[monitoring_v3.TimeSeries]:
        metric_type = chosen[0].metric_type if chosen else ""
        value_type = CLOUD_RUN_METRICS.get(metric_type, ("", "DOUBLE"))[1]
        period_s = period.total_seconds()
        # Per series: bucket end time -> aligned value.
        aligned: list[tuple[RawSeries, dict[datetime, Value]]] = []
        for raw in chosen:
            buckets: dict[datetime, list[Value]] = defaultdict(list)
            for at, value in raw.points:
                if start < at <= end:
                    steps = math.floor((end - at).total_seconds() / period_s)
                    buckets[end - timedelta(seconds=steps * period_s)].append(value)
            aligned.append((raw, {t: _align(aligner, vs, period_s) for t, vs in buckets.items()}))
        if reducer == "REDUCE_NONE":
            groups = {
                (tuple(sorted(raw.metric_labels.items())), raw.revision): [(raw, values)]
                for raw, values in aligned
            }
        else:
            groups = defaultdict(list)
            for raw, values in aligned:
                key = tuple(
                    (name.rsplit(".", 1)[-1], raw.metric_labels.get(name.rsplit(".", 1)[-1], ""))
                    for name in group_by
                    if name.startswith("metric.labels.")
                )
                groups[(key, "")].append((raw, values))
        out: list[monitoring_v3.TimeSeries] = []
        for (labels, revision), members in groups.items():
            times = sorted({t for _, values in members for t in values}, reverse=True)
            points = []
            for t in times:
                values = [v[t] for _, v in members if t in v]
                value = values[0] if reducer == "REDUCE_NONE" else _reduce(reducer, values)
                points.append(
                    monitoring_v3.Point(
                        interval={"start_time": t - period, "end_time": t},
                        value=_typed(value, _output_type(aligner, reducer, value_type)),
                    )
                )
            if points:
                resource_labels = {"service_name": members[0][0].service}
                if revision:
                    resource_labels["revision_name"] = revision
                out.append(
                    monitoring_v3.TimeSeries(
                        metric={"type": metric_type, "labels": dict(labels)},
                        resource={"type": "cloud_run_revision", "labels": resource_labels},
                        points=points,
                    )
                )
        return out

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeMonitoring:
        handlers = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._list,
                    request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                    response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
                )
            },
        )
        self.address = self._grpc.start([handlers])
        return self

    def client(self) -> monitoring_v3.MetricServiceClient:
        """The real Monitoring client, on an insecure loopback channel."""
        return monitoring_v3.MetricServiceClient(
            transport=MetricServiceGrpcTransport(channel=self._grpc.channel())
        )

    def stop(self) -> None:
        self._grpc.stop()

    def __enter__(self) -> FakeMonitoring:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
