"""vLLM's engine gauges in a /metrics scrape: the queue, the running batch, the KV cache.

Names as vLLM 0.11.2 registers them (vllm/v1/metrics/loggers.py): `vllm:num_requests_waiting`,
`vllm:num_requests_running` and `vllm:kv_cache_usage_perc` (0..1; the older
`vllm:gpu_cache_usage_perc` is hidden since 0.9.2), labelled by `model_name` and `engine`.
Requests add up over engines; the KV cache is the fullest engine's, the one that queues first.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families

from console._store import Sample
from console.platforms._base import MetricKey

GAUGES: dict[str, MetricKey] = {
    "vllm:num_requests_waiting": MetricKey.VLLM_REQUESTS_WAITING,
    "vllm:num_requests_running": MetricKey.VLLM_REQUESTS_RUNNING,
    "vllm:kv_cache_usage_perc": MetricKey.KV_CACHE_USAGE,
}
LABEL = "vllm"


def vllm_gauges(text: str) -> dict[MetricKey, float]:
    """The gauges present in Prometheus text (raises ValueError when it is not that)."""
    found: dict[MetricKey, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = GAUGES.get(sample.name)
            if key is None:
                continue
            value = float(sample.value)
            if key is MetricKey.KV_CACHE_USAGE:
                found[key] = max(found.get(key, 0.0), value)
            else:
                found[key] = found.get(key, 0.0) + value
    return found


def gauge_samples(at: datetime, text: str) -> list[Sample]:
    return [Sample(key, LABEL, at, value) for key, value in vllm_gauges(text).items()]


__all__ = ["GAUGES", "LABEL", "gauge_samples", "vllm_gauges"]
