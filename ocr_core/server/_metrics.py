"""vLLM's Prometheus metrics, on a registry of our own.

Names, labels and buckets follow vLLM's `/metrics` so the console reads the local
server and a real vLLM deployment with the same queries. The registry is private
(not prometheus_client's global one) so several servers can live in one process.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "ServerMetrics"]

# vLLM's buckets (vllm/v1/metrics/loggers.py), so histograms line up across both servers.
TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
    160.0,
    640.0,
    2560.0,
)
LATENCY_BUCKETS = (
    0.3,
    0.5,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    120.0,
    240.0,
    480.0,
    960.0,
    1920.0,
    7680.0,
)

# vLLM labels every series with the engine *index*; the local server has one engine.
ENGINE_INDEX = "0"


class ServerMetrics:
    """The gauges, counters and histograms one server updates, pre-bound to its labels."""

    def __init__(self, model_name: str, max_num_seqs: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.max_num_seqs = max_num_seqs
        self._labels = {"model_name": model_name, "engine": ENGINE_INDEX}
        names = list(self._labels)
        reg = self.registry
        ProcessCollector(registry=reg)  # process_resident_memory_bytes & co, charted by console

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, names, registry=reg).labels(**self._labels)

        def histogram(name: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, names, buckets=buckets, registry=reg).labels(**self._labels)

        self.running = gauge("vllm:num_requests_running", "Requests being processed now.")
        self.waiting = gauge("vllm:num_requests_waiting", "Requests waiting for a free slot.")
        self.kv_cache_usage = gauge(
            "vllm:kv_cache_usage_perc",
            "KV-cache usage (0-1). Proxy here: the fraction of --max-num-seqs slots in use.",
        )
        self.prompt_tokens = Counter(
            "vllm:prompt_tokens", "Prefill tokens processed.", names, registry=reg
        ).labels(**self._labels)
        self.generation_tokens = Counter(
            "vllm:generation_tokens", "Generation tokens produced.", names, registry=reg
        ).labels(**self._labels)
        self._success = Counter(
            "vllm:request_success",
            "Successfully processed requests.",
            [*names, "finished_reason"],
            registry=reg,
        )
        self.time_to_first_token = histogram(
            "vllm:time_to_first_token_seconds", "Time to first token in seconds.", TTFT_BUCKETS
        )
        self.e2e_latency = histogram(
            "vllm:e2e_request_latency_seconds",
            "End-to-end request latency in seconds.",
            LATENCY_BUCKETS,
        )
        self.queue_time = histogram(
            "vllm:request_queue_time_seconds",
            "Time spent waiting for a slot in seconds.",
            LATENCY_BUCKETS,
        )
        self.inference_time = histogram(
            "vllm:request_inference_time_seconds",
            "Time spent running the engine in seconds.",
            LATENCY_BUCKETS,
        )

    def set_load(self, running: int, waiting: int) -> None:
        self.running.set(running)
        self.waiting.set(waiting)
        self.kv_cache_usage.set(running / self.max_num_seqs if self.max_num_seqs else 0.0)

    def record_success(
        self,
        *,
        finished_reason: str,
        prompt_tokens: int,
        completion_tokens: int,
        queue_s: float,
        inference_s: float,
        ttft_s: float,
        e2e_s: float,
    ) -> None:
        self._success.labels(**self._labels, finished_reason=finished_reason).inc()
        self.prompt_tokens.inc(prompt_tokens)
        self.generation_tokens.inc(completion_tokens)
        self.queue_time.observe(queue_s)
        self.inference_time.observe(inference_s)
        self.time_to_first_token.observe(ttft_s)
        self.e2e_latency.observe(e2e_s)

    def record_abandoned(self) -> None:
        """A request whose client hung up before its answer was out: counted as vLLM counts
        aborted requests, so a client throwing away work shows on /metrics."""
        self._success.labels(**self._labels, finished_reason="abort").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
