"""Local metrics from Prometheus text and log lines: deltas between scrapes, restarts, quantiles.

The text is produced by prometheus_client itself (a registry shaped like the server's),
so the parser reads exactly what a real server exposes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from console.platforms._base import LogEntry, MetricKey
from console.platforms._local_metrics import (
    LogSampler,
    ScrapeDeltas,
    counter_delta,
    histogram_quantile,
    parse_scrape,
    total_memory_bytes,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BUCKETS = (0.5, 1.0, 2.0, 5.0)


class ServerShapedRegistry:
    """A registry with the server's metric names (one fresh instance = one server process)."""

    def __init__(self, rss: float = 1e9) -> None:
        self.registry = CollectorRegistry()
        labels = ["model_name", "finished_reason"]
        self.success = Counter("vllm:request_success", "ok", labels, registry=self.registry).labels(
            "m", "stop"
        )
        self.latency = Histogram(
            "vllm:e2e_request_latency_seconds",
            "e2e",
            ["model_name"],
            buckets=BUCKETS,
            registry=self.registry,
        ).labels("m")
        Gauge("process_resident_memory_bytes", "rss", registry=self.registry).set(rss)

    def serve(self, *latencies: float) -> None:
        for seconds in latencies:
            self.success.inc()
            self.latency.observe(seconds)

    def text(self) -> str:
        return generate_latest(self.registry).decode()


def by_key(samples: list, key: MetricKey, label: str) -> float:
    (value,) = [s.value for s in samples if s.key == key and s.label == label]
    return value


def test_parse_sums_counters_and_reads_histogram_buckets() -> None:
    server = ServerShapedRegistry(rss=2e9)
    server.serve(0.3, 1.5)
    scrape = parse_scrape(server.text())
    assert scrape.rss_bytes == 2e9
    assert scrape.latency_count == 2
    assert scrape.latency_sum == pytest.approx(1.8)
    assert scrape.latency_buckets[0.5] == 1
    assert scrape.latency_buckets[2.0] == 2


def test_first_scrape_gives_memory_and_instance_but_no_deltas() -> None:
    server = ServerShapedRegistry(rss=4e9)
    deltas = ScrapeDeltas(total_memory=8e9)
    samples = deltas.samples(T0, parse_scrape(server.text()))
    assert by_key(samples, MetricKey.MEMORY_UTILIZATION, "rss") == 0.5
    assert by_key(samples, MetricKey.INSTANCE_COUNT, "running") == 1
    assert not [s for s in samples if s.key == MetricKey.REQUEST_LATENCY_S]


def test_latency_per_interval_comes_from_histogram_deltas() -> None:
    server = ServerShapedRegistry()
    deltas = ScrapeDeltas(total_memory=8e9)
    server.serve(4.0)
    deltas.samples(T0, parse_scrape(server.text()))
    server.serve(0.2, 0.4, 0.6, 0.8)
    samples = deltas.samples(T0 + timedelta(seconds=5), parse_scrape(server.text()))
    assert by_key(samples, MetricKey.REQUEST_LATENCY_S, "mean") == pytest.approx(0.5)
    assert 0.0 < by_key(samples, MetricKey.REQUEST_LATENCY_S, "p50") <= 0.5
    assert 0.5 < by_key(samples, MetricKey.REQUEST_LATENCY_S, "p95") <= 1.0


def test_a_restarted_server_counts_its_new_requests_not_a_negative_delta() -> None:
    before = ServerShapedRegistry()
    before.serve(1.0, 1.0, 1.0, 1.0, 1.0)
    deltas = ScrapeDeltas(total_memory=8e9)
    deltas.samples(T0, parse_scrape(before.text()))
    restarted = ServerShapedRegistry()
    restarted.serve(3.0, 3.0)
    samples = deltas.samples(T0 + timedelta(seconds=5), parse_scrape(restarted.text()))
    assert by_key(samples, MetricKey.REQUEST_LATENCY_S, "mean") == pytest.approx(3.0)
    assert 2.5 < by_key(samples, MetricKey.REQUEST_LATENCY_S, "p50") <= 5.0


def test_counter_delta_treats_a_drop_as_a_restart() -> None:
    assert counter_delta(10, 15) == 5
    assert counter_delta(10, 3) == 3


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = {1.0: 0.0, 2.0: 10.0, float("inf"): 10.0}
    assert histogram_quantile(0.5, buckets) == pytest.approx(1.5)
    assert histogram_quantile(0.5, {1.0: 0.0, float("inf"): 0.0}) is None


def test_observations_above_the_last_bucket_report_its_bound() -> None:
    assert histogram_quantile(0.95, {1.0: 1.0, float("inf"): 10.0}) == 1.0


def test_total_memory_is_read_from_meminfo() -> None:
    total = total_memory_bytes()
    assert total is not None and total > 64 << 20


def access(status: int, path: str = "/v1/chat/completions", method: str = "POST") -> LogEntry:
    message = f'127.0.0.1:5000 - "{method} {path} HTTP/1.1" {status}'
    return LogEntry(T0, "INFO", message, "local")


def test_answers_are_counted_by_status_class_from_access_lines() -> None:
    entries = [access(200), access(200), access(400), access(503), access(200, "/health", "GET")]
    samples = LogSampler().samples(T0, entries)
    assert by_key(samples, MetricKey.REQUEST_COUNT, "2xx") == 2
    assert by_key(samples, MetricKey.REQUEST_COUNT, "4xx") == 1
    assert by_key(samples, MetricKey.REQUEST_COUNT, "5xx") == 1
    assert by_key(samples, MetricKey.ERROR_RATE, "5xx") == pytest.approx(0.25)


def test_vllm_plain_text_access_lines_count_too() -> None:
    line = (
        'INFO:     10.0.0.1:4242 - "POST /v1/chat/completions HTTP/1.1" 500 Internal Server Error'
    )
    samples = LogSampler().samples(T0, [LogEntry(T0, "DEFAULT", line, "local")])
    assert by_key(samples, MetricKey.ERROR_RATE, "5xx") == 1.0


def test_an_idle_interval_is_zero_requests_and_no_error_rate() -> None:
    samples = LogSampler().samples(T0, [])
    assert by_key(samples, MetricKey.REQUEST_COUNT, "2xx") == 0
    assert not [s for s in samples if s.key == MetricKey.ERROR_RATE]


def test_engine_ready_lines_become_startup_latencies_at_their_time() -> None:
    ready_at = T0 - timedelta(minutes=3)
    entry = LogEntry(ready_at, "INFO", "engine ready in 12.50 s", "local")
    samples = LogSampler().samples(T0, [entry])
    (startup,) = [s for s in samples if s.key == MetricKey.STARTUP_LATENCY_S]
    assert (startup.label, startup.at, startup.value) == ("engine", ready_at, 12.5)


def test_a_503_while_a_new_server_loads_its_engine_is_not_counted_as_a_failure() -> None:
    sampler = LogSampler()
    starting = [LogEntry(T0, "INFO", "Started server process [4242]", "local"), access(503)]
    loading = sampler.samples(T0, starting)
    assert by_key(loading, MetricKey.REQUEST_COUNT, "2xx") == 0
    assert not [s for s in loading if s.key == MetricKey.ERROR_RATE]
    ready = [LogEntry(T0, "INFO", "engine ready in 0.90 s", "local"), access(200), access(503)]
    serving = sampler.samples(T0, ready)
    assert by_key(serving, MetricKey.REQUEST_COUNT, "5xx") == 1
    assert by_key(serving, MetricKey.ERROR_RATE, "5xx") == pytest.approx(0.5)
