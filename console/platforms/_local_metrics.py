"""The local server's metrics: scraped from /metrics and read from its log, kept in the store.

A daemon thread samples every `interval_s`, so charts survive a console restart and the
Metrics page only reads the store.

Counters and histograms only say "so many since the process started", so a chart point is
the difference between two scrapes. When the server restarts its counters start again from
zero; a counter that went down therefore means "restarted", and the whole new value is the
interval's delta (what Prometheus' `increase()` does). Quantiles come from histogram bucket
deltas with linear interpolation inside the bucket, as Prometheus' `histogram_quantile`.

Request counts and the error rate come from the server's access log instead: vLLM's
metrics count only successes, while every answer, 5xx included, gets an access line. The
count is by status class, like Cloud Run's `request_count` by `response_code_class`, and
the error rate is 5xx over all answers, as the runbook means it.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from console._store import Sample, Store
from console.platforms._base import THRESHOLDS, LogEntry, LogQuery, MetricKey, MetricSeries
from console.platforms._local_logs import LocalLogTail, append_note, file_size
from console.platforms._vllm_gauges import gauge_samples
from ocr_core import CHAT_PATH

# vLLM's Prometheus endpoint. ocr_core._protocol names the paths the client calls
# (CHAT_PATH, MODELS_PATH, HEALTH_PATH); the client never scrapes, so this one lives here.
METRICS_PATH = "/metrics"
UNITS: dict[MetricKey, str] = {
    MetricKey.STARTUP_LATENCY_S: "s",
    MetricKey.MEMORY_UTILIZATION: "ratio",
    MetricKey.CPU_UTILIZATION: "ratio",
    MetricKey.GPU_MEMORY_UTILIZATION: "ratio",
    MetricKey.INSTANCE_COUNT: "instances",
    MetricKey.REQUEST_LATENCY_S: "s",
    MetricKey.REQUEST_COUNT: "requests",
    MetricKey.ERROR_RATE: "ratio",
    MetricKey.VLLM_REQUESTS_WAITING: "requests",
    MetricKey.VLLM_REQUESTS_RUNNING: "requests",
    MetricKey.KV_CACHE_USAGE: "ratio",
}
# How far back status looks at request answers to call a ready server degraded.
RECENT_ANSWERS = timedelta(minutes=2)
_PRUNE_EVERY_S = 3600.0

RSS = "process_resident_memory_bytes"
CPU_SECONDS = "process_cpu_seconds_total"
LATENCY = "vllm:e2e_request_latency_seconds"
# uvicorn's access line (JSON message or vLLM's plain text): `"POST /v1/chat/completions
# HTTP/1.1" 200`.
_OCR_ANSWER = re.compile(rf'"POST {re.escape(CHAT_PATH)}[^"]*" (\d)\d\d')
_ENGINE_READY = re.compile(r"engine ready in ([0-9.]+) s")
# uvicorn's first line of a new server process.
_SERVER_STARTED = re.compile(r"Started server process")


@dataclass(frozen=True, slots=True)
class Scrape:
    """The few numbers the console charts, summed over label sets (models, finish reasons)."""

    rss_bytes: float | None = None
    cpu_seconds: float | None = None
    latency_count: float = 0.0
    latency_sum: float = 0.0
    # Upper bound ("le") -> cumulative count; math.inf for the +Inf bucket.
    latency_buckets: dict[float, float] = field(default_factory=dict)


def parse_scrape(text: str) -> Scrape:
    """Read the server's /metrics text (raises ValueError when it is not Prometheus text)."""
    rss = cpu = None
    count = total = 0.0
    buckets: dict[float, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, value = sample.name, float(sample.value)
            if name == RSS:
                rss = (rss or 0.0) + value
            elif name == CPU_SECONDS:
                cpu = (cpu or 0.0) + value
            elif name == f"{LATENCY}_count":
                count += value
            elif name == f"{LATENCY}_sum":
                total += value
            elif name == f"{LATENCY}_bucket":
                buckets[float(sample.labels["le"])] += value
    return Scrape(rss, cpu, count, total, dict(buckets))


def counter_delta(previous: float, current: float) -> float:
    """The increase between two readings of a counter; a drop means the process restarted."""
    return current if current < previous else current - previous


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """The q-quantile of observations in cumulative `buckets`, or None when there are none."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                # Above the highest finite bucket: its bound is the best that can be said.
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


def total_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """The machine's RAM (the local "instance" limit), or None where /proc is absent."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class ScrapeDeltas:
    """Turns successive scrapes of one server into chart samples (needs two to give deltas)."""

    def __init__(self, total_memory: float | None, cpus: int | None = None) -> None:
        self.total_memory = total_memory
        self.cpus = cpus or os.cpu_count() or 1
        self._previous: tuple[datetime, Scrape] | None = None

    def forget(self) -> None:
        """The server went away: the next scrape starts a new baseline."""
        self._previous = None

    def samples(self, at: datetime, scrape: Scrape) -> list[Sample]:
        out: list[Sample] = [Sample(MetricKey.INSTANCE_COUNT, "running", at, 1.0)]
        if scrape.rss_bytes is not None and self.total_memory:
            out.append(
                Sample(
                    MetricKey.MEMORY_UTILIZATION, "rss", at, scrape.rss_bytes / self.total_memory
                )
            )
        previous, self._previous = self._previous, (at, scrape)
        if previous is None:
            return out
        before_at, before = previous
        restarted = scrape.latency_count < before.latency_count or (scrape.cpu_seconds or 0.0) < (
            before.cpu_seconds or 0.0
        )
        if restarted:
            before = Scrape()
        interval = (at - before_at).total_seconds()
        if scrape.cpu_seconds is not None and interval > 0:
            used = counter_delta(before.cpu_seconds or 0.0, scrape.cpu_seconds)
            out.append(
                Sample(MetricKey.CPU_UTILIZATION, "process", at, used / interval / self.cpus)
            )
        count = counter_delta(before.latency_count, scrape.latency_count)
        if count > 0:
            mean = counter_delta(before.latency_sum, scrape.latency_sum) / count
            out.append(Sample(MetricKey.REQUEST_LATENCY_S, "mean", at, mean))
            deltas = {
                bound: counter_delta(before.latency_buckets.get(bound, 0.0), value)
                for bound, value in scrape.latency_buckets.items()
            }
            for label, q in (("p50", 0.5), ("p95", 0.95)):
                value = histogram_quantile(q, deltas)
                if value is not None:
                    out.append(Sample(MetricKey.REQUEST_LATENCY_S, label, at, value))
        return out


class LogSampler:
    """Samples from the log entries written since the last sample.

    Answers to OCR requests by status class ("2xx" always, "4xx"/"5xx" when seen), the
    5xx error rate when anything was answered, and each "engine ready in X s" line as a
    startup latency at the time it was logged.

    A 503 from a server whose engine is still loading is its "not yet" (vLLM answers the
    same way, and the client retries it into the real answer), not a failed request: it is
    left out, so a cold start does not read as an outage. Whether the engine is loading is
    carried from one interval to the next: a new server process starts loading, its
    "engine ready" line ends that.
    """

    def __init__(self) -> None:
        self._loading = False

    def samples(self, at: datetime, entries: Iterable[LogEntry]) -> list[Sample]:
        classes: Counter[str] = Counter()
        out: list[Sample] = []
        for entry in entries:
            if _SERVER_STARTED.search(entry.message):
                self._loading = True
            answer = _OCR_ANSWER.search(entry.message)
            if answer and not (self._loading and answer.group(0).endswith("503")):
                classes[f"{answer.group(1)}xx"] += 1
            ready = _ENGINE_READY.search(entry.message)
            if ready:
                self._loading = False
                out.append(
                    Sample(MetricKey.STARTUP_LATENCY_S, "engine", entry.timestamp, float(ready[1]))
                )
        classes["2xx"] += 0  # an idle interval is a zero on the chart, not a gap
        for label, count in sorted(classes.items()):
            out.append(Sample(MetricKey.REQUEST_COUNT, label, at, float(count)))
        answered = sum(classes.values())
        if answered:
            out.append(Sample(MetricKey.ERROR_RATE, "5xx", at, classes["5xx"] / answered))
        return out


class LocalMetrics:
    """Samples one local server into the store on a daemon thread, and reads series back."""

    def __init__(
        self,
        *,
        platform: str,
        service_url: str,
        http: httpx.Client,
        store: Store,
        log_path: Path,
        interval_s: float,
        server_alive: Callable[[], bool] = lambda: False,
    ) -> None:
        """`server_alive` says whether the server process still runs: a scrape it did not
        answer in time (a busy machine) is then a gap on the charts, not zero instances."""
        self.platform = platform
        self._server_alive = server_alive
        self.service_url = service_url
        self.store = store
        self.log_path = log_path
        self.interval_s = interval_s
        self._http = http
        self._deltas = ScrapeDeltas(total_memory_bytes())
        self._log_sampler = LogSampler()
        self._lock = threading.Lock()
        # The sampler's own reader of the log: request answers and engine start times.
        self._follower = LocalLogTail(
            log_path,
            LogQuery(),
            offset=file_size(log_path),
            max_read_bytes=8 << 20,
            max_entries=1 << 20,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread = threading.Thread(
                target=self._loop, name="local-metrics-sampler", daemon=True
            )
            self._thread.start()

    def sample_once(self) -> list[Sample]:
        """Scrape /metrics and read the new log lines once, and store the samples."""
        with self._lock:
            at = datetime.now(UTC)
            try:
                response = self._http.get(f"{self.service_url}{METRICS_PATH}")
                response.raise_for_status()
                samples = self._deltas.samples(at, parse_scrape(response.text))
                samples += gauge_samples(at, response.text)  # vLLM's queue and KV cache
            except (httpx.HTTPError, ValueError):
                gone = not self._server_alive()
                samples = [Sample(MetricKey.INSTANCE_COUNT, "running", at, 0.0)] if gone else []
            samples += self._log_sampler.samples(at, self._follower.drain())
        self.store.add_samples(self.platform, samples)
        return samples

    def _loop(self) -> None:
        last_prune = 0.0
        while not self._stop.is_set():
            try:
                self.sample_once()
                if time.monotonic() - last_prune > _PRUNE_EVERY_S:
                    self.store.prune()
                    last_prune = time.monotonic()
            except Exception as error:  # a broken sample must not end sampling for good
                with contextlib.suppress(OSError):
                    append_note(
                        self.log_path, f"console metrics sampling failed: {error}", "WARNING"
                    )
            self._stop.wait(self.interval_s)

    def series(self, window: timedelta) -> list[MetricSeries]:
        """Stored samples in the window, one series per (metric, label)."""
        points: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
        for sample in self.store.samples(self.platform, datetime.now(UTC) - window):
            points[(sample.key, sample.label)].append((sample.at, sample.value))
        return [
            MetricSeries(MetricKey(key), label, UNITS[MetricKey(key)], line)
            for (key, label), line in points.items()
        ]

    def recent_failures(self) -> str | None:
        """Why the server counts as degraded by its recent 5xx answers, if it does: above the
        runbook's error-rate line over the recent window."""
        window = max(RECENT_ANSWERS, timedelta(seconds=3 * self.interval_s))
        answered = failed = 0.0
        for sample in self.store.samples(self.platform, datetime.now(UTC) - window):
            if sample.key == MetricKey.REQUEST_COUNT:
                answered += sample.value
                failed += sample.value if sample.label == "5xx" else 0.0
        if answered and failed / answered > THRESHOLDS[MetricKey.ERROR_RATE]:
            minutes = window.total_seconds() / 60
            return (
                f"{failed:.0f} of {answered:.0f} OCR requests failed with a server error in the "
                f"last {minutes:.0f} min: see the Logs page."
            )
        return None

    def close(self) -> None:
        """Stop sampling. A sampler whose server went with it (the console stopping) says so
        last: the instance chart reads 0 from there, not a level bridged to the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            if not self._server_alive():
                with contextlib.suppress(Exception):  # a store gone away: nothing to say
                    down = Sample(MetricKey.INSTANCE_COUNT, "running", datetime.now(UTC), 0.0)
                    self.store.add_samples(self.platform, [down])
        self._follower.close()
