"""What the Metrics page reads beside the platform's series, as methods of `Operations`.

A mixin so that `console/service/_operations.py` stays about actions; each method is a thin call
into the module that holds the logic (cost, cold starts, the console's failures, vLLM).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console._store import Store, WarmUpRecord
from console.metrics._cold_starts import ColdStart, ColdStarts, reread, timeline
from console.metrics._console_failures import ConsoleFailures, console_failures
from console.metrics._cost import CostReport, InstanceShape, Rates, cost_of_series
from console.metrics._vllm import VllmSampler, stored_series
from console.platforms._base import MetricSeries, Platform, WarmUpMeasurement

logger = logging.getLogger(__name__)
_SAMPLER_LOCK = threading.Lock()
# Cloud Logging may take a while to ingest a cold start's lines: read them again this long.
REREAD_WINDOW = timedelta(minutes=10)


class MetricsViews:
    platform: Platform
    store: Store
    _vllm_sampler: VllmSampler | None = None  # started by the worker

    def console_failures(self, window: timedelta, bucket: timedelta) -> ConsoleFailures:
        """Pages the console sent to this service in the window and how many failed,
        including those that never reached the server (issue 11)."""
        since = datetime.now(UTC) - window
        return console_failures(self.store, self.platform.service_url, since=since, bucket=bucket)

    def cost(self, window: timedelta) -> CostReport | None:
        """What the window's instance time costs at the LIGHTONOCR_RATE_* rates, from the
        platform's one-minute instance counts and the instance's size as deployed; None
        where nothing is billed (the local platform) or nothing ran."""
        series, size = self.platform.billing(window)
        if not series:
            return None
        shape = InstanceShape(size.gpus, size.vcpus, size.memory_gib) if size is not None else None
        return cost_of_series(series, end=datetime.now(UTC), rates=Rates.from_env(), shape=shape)

    def cost_between(self, start: datetime, end: datetime) -> CostReport | None:
        """`cost` of the service's instance time from `start` to `end` (a backfill's run):
        the points of the window up to now that fall between them."""
        series, size = self.platform.billing(datetime.now(UTC) - start)
        if not series:
            return None
        within = [
            replace(line, points=[(at, v) for at, v in line.points if start <= at <= end])
            for line in series
        ]
        shape = InstanceShape(size.gpus, size.vcpus, size.memory_gib) if size is not None else None
        return cost_of_series(within, end=end, rates=Rates.from_env(), shape=shape)

    def _record_timeline(
        self, record: WarmUpRecord, measured: WarmUpMeasurement, ended: datetime
    ) -> None:
        """Keep the warm-up's cold-start marks; a failure here never fails the warm-up."""
        try:
            ColdStarts(self.store).record(record, timeline(self.platform, measured, ended=ended))
        except Exception as error:
            logger.warning("the warm-up's timeline was not recorded: %s", error)

    def cold_starts(self, limit: int = 20) -> list[ColdStart]:
        """This platform's last `limit` warm-ups that started the service, newest first, each
        with its timeline."""
        history = self.store.warm_ups(platform=self.platform.name, limit=10 * limit)
        cold = [record for record in history if record.cold][:limit]
        return ColdStarts(self.store).timelines(cold)

    def reread_cold_starts(self, window: timedelta = REREAD_WINDOW) -> int:
        """Marks of the window's cold starts found in the log since they were recorded (the
        worker calls it every minute or so). Returns how many were added."""
        since = datetime.now(UTC) - window
        recent = self.store.warm_ups(platform=self.platform.name, since=since, limit=50)
        return reread(self.platform, self.store, recent)

    def start_vllm_sampler(self) -> None:
        """Scrape a remote service's vLLM gauges into the store (the worker's duty); the local
        platform's own sampler already scrapes them into its series."""
        if self.platform.name == "local":
            return
        with _SAMPLER_LOCK:
            if self._vllm_sampler is None:
                self._vllm_sampler = VllmSampler(self.platform, self.store).start()

    def _vllm_series(self, since: datetime) -> list[MetricSeries]:
        """A remote service's vLLM gauges as the worker sampled them."""
        if self.platform.name == "local":
            return []
        return stored_series(self.store, self.platform.name, since)

    def _close_metrics(self) -> None:
        if self._vllm_sampler is not None:
            self._vllm_sampler.close()


__all__ = ["MetricsViews"]
