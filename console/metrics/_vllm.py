"""vLLM's queue, running batch and KV cache from a remote service's /metrics, kept in the store.

Cloud Monitoring knows instances and latencies but not what the engine holds; vLLM's own
gauges say whether pages queue. A daemon thread scrapes the service's /metrics through the OCR
client (so with the ID token every page carries) and stores the gauges as samples, as the
local platform's sampler does, so the combined chart has history.

A scrape is a request: on a scale-to-zero service it would keep an idle GPU instance alive,
or start one. So it scrapes only when an instance is up for another reason: the floor is
above zero (checked at most every `FLOOR_CHECK_S`), or a job of this console is sending pages
to the service right now. Otherwise it waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from console._store import Sample, Store
from console.jobs._tables import jobs_table
from console.platforms._base import MetricKey, MetricSeries, Platform
from console.platforms._vllm_gauges import GAUGES, gauge_samples
from ocr_core import OCRError, SyncOCRClient

logger = logging.getLogger(__name__)

INTERVAL_S = 15.0
FLOOR_CHECK_S = 300.0
SCRAPE_TIMEOUT_S = 10.0
UNITS: dict[MetricKey, str] = {
    MetricKey.VLLM_REQUESTS_WAITING: "requests",
    MetricKey.VLLM_REQUESTS_RUNNING: "requests",
    MetricKey.KV_CACHE_USAGE: "ratio",
}


def jobs_sending(store: Store, service_url: str) -> bool:
    """Whether a job of this console is running against the service now."""
    rows = store.read(
        sa.select(sa.func.count())
        .select_from(jobs_table)
        .where(jobs_table.c.service_url == service_url, jobs_table.c.status == "running")
    )
    return bool(rows[0][0])


def stored_series(store: Store, platform: str, since: datetime) -> list[MetricSeries]:
    """The sampled gauges of `platform` since `since`, one line per gauge."""
    points: dict[MetricKey, list[tuple[datetime, float]]] = defaultdict(list)
    keys = {key.value for key in GAUGES.values()}
    for sample in store.samples(platform, since):
        if sample.key in keys:
            points[MetricKey(sample.key)].append((sample.at, sample.value))
    return [MetricSeries(key, "vllm", UNITS[key], line) for key, line in points.items()]


class VllmSampler:
    """Scrapes one remote service's /metrics into the store while an instance is up anyway."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        *,
        interval_s: float = INTERVAL_S,
        scrape: Callable[[], str] | None = None,
    ) -> None:
        self.platform = platform
        self.store = store
        self.interval_s = interval_s
        self._scrape = scrape or self._scrape_with_client
        self._client: SyncOCRClient | None = None
        self._floor: tuple[float, int] | None = None  # (monotonic time read, floor)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _scrape_with_client(self) -> str:
        if self._client is None:
            settings = self.platform.client_settings().with_overrides(
                max_attempts=1, timeout_s=SCRAPE_TIMEOUT_S
            )
            fetcher = getattr(self.platform, "id_token_fetcher", None)
            self._client = SyncOCRClient(settings=settings, id_token_fetcher=fetcher)
        return self._client.metrics_text(timeout=SCRAPE_TIMEOUT_S)

    def _floor_now(self) -> int:
        now = time.monotonic()
        if self._floor is None or now - self._floor[0] > FLOOR_CHECK_S:
            self._floor = (now, self.platform.status().min_instances or 0)
        return self._floor[1]

    def instance_up(self) -> bool:
        """Up for a reason other than this scrape: pages being sent, or a floor above 0."""
        return jobs_sending(self.store, self.platform.service_url) or self._floor_now() > 0

    def sample_once(self) -> list[Sample]:
        """One scrape into the store when an instance is up anyway; [] otherwise."""
        if not self.instance_up():
            return []
        samples = gauge_samples(datetime.now(UTC), self._scrape())
        self.store.add_samples(self.platform.name, samples)
        return samples

    def start(self) -> VllmSampler:
        self._thread = threading.Thread(target=self._loop, name="vllm-sampler", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except (OCRError, ValueError) as error:  # down, refused, or not Prometheus text
                logger.info("vLLM metrics not scraped: %s", error)
            except Exception as error:  # a broken sample must not end sampling for good
                logger.warning("vLLM metrics sampling failed: %s", error)
            self._stop.wait(self.interval_s)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=SCRAPE_TIMEOUT_S + 5)
        if self._client is not None:
            self._client.close()


__all__ = ["UNITS", "VllmSampler", "jobs_sending", "stored_series"]
