"""Cloud Run metrics through Cloud Monitoring v3 `list_time_series`, as console chart lines.

Aggregation choices, per metric (all over the service's revisions, `cloud_run_revision`):

- latencies (`container/startup_latencies`, `request_latencies`: DELTA distributions in ms):
  ALIGN_DELTA merges each revision's samples per period, then REDUCE_PERCENTILE_50/95/99
  takes the percentile of the merged distribution, so p99 is the service's p99, not an
  average of revision percentiles. Converted to seconds.
- utilisations (`container/memory|cpu/utilizations`, `container/gpu/memory_utilizations`):
  ALIGN_PERCENTILE_50/99 per revision, then REDUCE_MAX: the worst revision's median and p99.
  Percentile aligners accept gauge and delta distributions alike (the GPU metric's kind is
  not something to bet on). Monitoring reports these as ratios (unit `10^2.%`): 0..1 already.
- `container/instance_count` (GAUGE INT64 by `state`): ALIGN_MAX, REDUCE_SUM by state.
- `request_count` (DELTA INT64 by `response_code_class`): ALIGN_DELTA, REDUCE_SUM by class,
  giving requests per period; the error rate is 5xx / all per period.

A metric Monitoring does not know (NotFound, e.g. the GPU metric where no GPU ever ran)
yields no series. Any other failure of one query (a refused aligner, a timeout) becomes a
line with no points and an `error` on that chart alone, so one bad query never blanks the
Metrics page; only when every query fails (no permission at all) does `read` raise the
CloudError, which names roles/monitoring.viewer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from google.cloud import monitoring_v3

from console.platforms._base import MetricKey, MetricSeries
from deploy import CloudError, explain_google_error

MONITORING_ROLE = "roles/monitoring.viewer"
PREFIX = "run.googleapis.com/"
# Alignment periods we choose from: the smallest that keeps a chart under MAX_POINTS points.
PERIODS_S = (60, 300, 600, 900, 1800, 3600, 10800, 21600, 86400)
MAX_POINTS = 200

Aligner = monitoring_v3.Aggregation.Aligner
Reducer = monitoring_v3.Aggregation.Reducer


def alignment_period(window: timedelta) -> timedelta:
    """60 s for an hour, 5 min for 6 h, 10 min for a day, 1 h for a week."""
    needed = window.total_seconds() / MAX_POINTS
    return timedelta(seconds=next((p for p in PERIODS_S if p >= needed), PERIODS_S[-1]))


@dataclass(frozen=True, slots=True)
class Query:
    """One `list_time_series` call and how its answer becomes chart lines."""

    key: MetricKey
    metric: str  # after run.googleapis.com/
    aligner: Aligner
    reducer: Reducer
    label: str = ""  # the line's label; "" = take it from `group_by`'s metric label
    group_by: str = ""  # a metric label to split lines by
    scale: float = 1.0
    unit: str = ""


def _latency(key: MetricKey, metric: str) -> list[Query]:
    return [
        Query(
            key,
            metric,
            Aligner.ALIGN_DELTA,
            getattr(Reducer, f"REDUCE_PERCENTILE_{p}"),
            label=f"p{p}",
            scale=0.001,
            unit="s",
        )
        for p in ("50", "95", "99")
    ]


def _utilisation(key: MetricKey, metric: str) -> list[Query]:
    return [
        Query(
            key,
            metric,
            getattr(Aligner, f"ALIGN_PERCENTILE_{p}"),
            Reducer.REDUCE_MAX,
            label=f"p{p}",
            unit="ratio",
        )
        for p in ("50", "99")
    ]


# Requests by response class: a chart of their own, and the cost's busy minutes.
REQUEST_COUNT = Query(
    MetricKey.REQUEST_COUNT,
    "request_count",
    Aligner.ALIGN_DELTA,
    Reducer.REDUCE_SUM,
    group_by="response_code_class",
    unit="requests",
)

QUERIES: tuple[Query, ...] = (
    *_latency(MetricKey.STARTUP_LATENCY_S, "container/startup_latencies"),
    *_utilisation(MetricKey.MEMORY_UTILIZATION, "container/memory/utilizations"),
    *_utilisation(MetricKey.CPU_UTILIZATION, "container/cpu/utilizations"),
    *_utilisation(MetricKey.GPU_MEMORY_UTILIZATION, "container/gpu/memory_utilizations"),
    # vLLM reserves GPU memory up front (--gpu-memory-utilization), so that line sits flat;
    # how busy the GPU is shows in its compute utilisation.
    *_utilisation(MetricKey.GPU_UTILIZATION, "container/gpu/utilizations"),
    Query(
        MetricKey.INSTANCE_COUNT,
        "container/instance_count",
        Aligner.ALIGN_MAX,
        Reducer.REDUCE_SUM,
        group_by="state",
        unit="instances",
    ),
    *_latency(MetricKey.REQUEST_LATENCY_S, "request_latencies"),
    REQUEST_COUNT,
)


# The cost's instance time and busy minutes: one-minute means (Cloud Run samples the
# instance count once a minute), however long the window.
BILLING_PERIOD = timedelta(seconds=60)
BILLING_QUERIES: tuple[Query, ...] = (
    Query(
        MetricKey.INSTANCE_COUNT,
        "container/instance_count",
        Aligner.ALIGN_MEAN,
        Reducer.REDUCE_SUM,
        label="billed",
        unit="instances",
    ),
    REQUEST_COUNT,
    Query(
        MetricKey.BILLABLE_INSTANCE_TIME,
        "container/billable_instance_time",
        Aligner.ALIGN_DELTA,
        Reducer.REDUCE_SUM,
        label="billable",
        unit="s",
    ),
)


def _value(point: monitoring_v3.Point) -> float:
    value = point.value
    kind = monitoring_v3.TypedValue.pb(value).WhichOneof("value")
    if kind == "double_value":
        return value.double_value
    if kind == "int64_value":
        return float(value.int64_value)
    if kind == "distribution_value":
        return value.distribution_value.mean
    if kind == "bool_value":
        return float(value.bool_value)
    return 0.0


class MetricsReader:
    """Reads every chart's series for one Cloud Run service; calls run a few at a time."""

    def __init__(
        self,
        client: monitoring_v3.MetricServiceClient,
        project: str,
        service: str,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._project = project
        self._service = service
        self._now = now

    def _filter(self, metric: str) -> str:
        return (
            f'metric.type="{PREFIX}{metric}" AND resource.type="cloud_run_revision" '
            f'AND resource.labels.service_name="{self._service}"'
        )

    def fetch(
        self, metric: str, window: timedelta, aggregation: monitoring_v3.Aggregation
    ) -> list[monitoring_v3.TimeSeries]:
        """Series of one metric over the window ending now; [] when Monitoring lacks it."""
        end = self._now()
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self._project}",
            filter=self._filter(metric),
            interval=monitoring_v3.TimeInterval(start_time=end - window, end_time=end),
            aggregation=aggregation,
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
        try:
            return list(self._client.list_time_series(request=request))
        except gexc.NotFound:
            return []
        except (gexc.GoogleAPIError, auth_exc.GoogleAuthError) as exc:
            raise explain_google_error(
                exc,
                action=f"reading metric {PREFIX}{metric} of {self._service}",
                role=MONITORING_ROLE,
                project=self._project,
            ) from None

    def _run(self, query: Query, window: timedelta) -> list[MetricSeries] | CloudError:
        """The query's lines, or the error that stopped it (for its chart to show)."""
        try:
            return self._lines(query, window)
        except CloudError as exc:
            return exc

    def _lines(
        self, query: Query, window: timedelta, period: timedelta | None = None
    ) -> list[MetricSeries]:
        period = period or alignment_period(window)
        aggregation = monitoring_v3.Aggregation(
            alignment_period=period,
            per_series_aligner=query.aligner,
            cross_series_reducer=query.reducer,
            group_by_fields=[f"metric.labels.{query.group_by}"] if query.group_by else [],
        )
        lines: list[MetricSeries] = []
        for series in self.fetch(query.metric, window, aggregation):
            label = query.label or series.metric.labels.get(query.group_by, "") or "all"
            points = sorted((p.interval.end_time, _value(p) * query.scale) for p in series.points)
            lines.append(MetricSeries(query.key, label, query.unit, points))
        return lines

    def read(self, window: timedelta) -> list[MetricSeries]:
        """Every chart line, in QUERIES order, plus the derived error rate; a query that
        failed gives one pointless line carrying its error, on its own chart."""
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="cloudrun-metrics") as pool:
            results = list(pool.map(lambda q: self._run(q, window), QUERIES))
        failures = [r for r in results if isinstance(r, CloudError)]
        if failures and len(failures) == len(results):
            raise failures[0]
        lines: list[MetricSeries] = []
        for query, result in zip(QUERIES, results, strict=True):
            if isinstance(result, CloudError):
                lines.append(MetricSeries(query.key, query.label, query.unit, error=str(result)))
            else:
                lines.extend(result)
        counts = [s for s in lines if s.key is MetricKey.REQUEST_COUNT]
        if any(s.error for s in counts):
            error = next(s.error for s in counts if s.error)
            lines.append(MetricSeries(MetricKey.ERROR_RATE, "5xx", "ratio", error=error))
        elif counts:
            lines.append(error_rate(counts))
        return lines

    def billing(self, window: timedelta) -> list[MetricSeries]:
        """The instance count and requests at one minute, whatever the window: what the cost
        is computed from. The charts' coarser periods with ALIGN_MAX bill a 20-minute
        instance a whole hour on the 7-day view; the mean over each minute does not."""
        return [
            line for query in BILLING_QUERIES for line in self._lines(query, window, BILLING_PERIOD)
        ]

    def instances_now(self, lookback: timedelta) -> int | None:
        """The most instances seen in the last `lookback` (None if Monitoring has no data)."""
        aggregation = monitoring_v3.Aggregation(
            alignment_period=lookback,
            per_series_aligner=Aligner.ALIGN_MAX,
            cross_series_reducer=Reducer.REDUCE_SUM,
        )
        series = self.fetch("container/instance_count", lookback, aggregation)
        values = [_value(p) for s in series for p in s.points]
        return round(max(values)) if values else None

    def requests_in(self, lookback: timedelta) -> int:
        """Requests the service answered in the last `lookback` (all revisions)."""
        aggregation = monitoring_v3.Aggregation(
            alignment_period=lookback,
            per_series_aligner=Aligner.ALIGN_DELTA,
            cross_series_reducer=Reducer.REDUCE_SUM,
        )
        series = self.fetch("request_count", lookback, aggregation)
        return round(sum(_value(p) for s in series for p in s.points))


def error_rate(counts: list[MetricSeries]) -> MetricSeries:
    """5xx over all requests per period, from request_count split by response_code_class."""
    total: dict[datetime, float] = defaultdict(float)
    errors: dict[datetime, float] = defaultdict(float)
    for line in counts:
        for at, value in line.points:
            total[at] += value
            if line.label == "5xx":
                errors[at] += value
    points = [(at, errors[at] / total[at]) for at in sorted(total) if total[at] > 0]
    return MetricSeries(MetricKey.ERROR_RATE, "5xx", "ratio", points)
