"""The `Platform` seam: what the console needs from wherever the OCR service runs.

Two implementations: `local` (the embedded default: the local OCR server as a child
process) and `cloudrun` (google-cloud-run / -logging / -monitoring). Pages only ever talk
to this interface, through `console/_operations.py`, which adds the audit log and history.
"""

from __future__ import annotations

import enum
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from ocr_core import ClientSettings

T = TypeVar("T")


class ServiceState(enum.StrEnum):
    DOWN = "down"  # nothing is running (scaled to zero, stopped)
    STARTING = "starting"  # a process/instance exists but the model does not answer yet
    READY = "ready"
    DEGRADED = "degraded"  # answers, but unhealthy conditions (failed revision, errors)
    UNKNOWN = "unknown"  # the status could not be read (the detail says why)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    state: ServiceState
    url: str
    model: str | None = None
    # Cloud Run: the latest ready revision; local: "pid 1234".
    revision: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    gpu: str | None = None
    ready_since: datetime | None = None
    detail: str = ""

    @classmethod
    def unreadable(cls, url: str, error: Exception) -> ServiceStatus:
        """The status of a service whose platform could not be read (a page must still render)."""
        return cls(
            ServiceState.UNKNOWN,
            url,
            detail=f"status unavailable ({type(error).__name__}: {error})",
        )


@dataclass(frozen=True, slots=True)
class WarmUpMeasurement:
    """What a platform measured while bringing its service to ready.

    `was_ready` says the service already answered when the warm-up began (nothing had to
    start), so `seconds` is an answer time, not a cold start. Platforms only measure;
    `Operations.warm_up` decides what the measurement was and records it.
    """

    ready: bool
    seconds: float
    attempts: int  # health checks made while waiting
    was_ready: bool = False
    error: str | None = None  # why not ready, written for the operator
    # Timeline marks the warm-up saw itself ("model_listed", "answered": see
    # console.metrics._startup_phases.MARKS), in UTC; the service's log gives the others.
    marks: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str


SEVERITIES = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


@dataclass(frozen=True, slots=True)
class InstanceSize:
    """What one instance of the service is billed for, as deployed."""

    gpus: int
    vcpus: float
    memory_gib: float


@dataclass(frozen=True, slots=True)
class LogEntry:
    timestamp: datetime  # timezone-aware UTC
    severity: str  # one of SEVERITIES (or "DEFAULT")
    message: str
    source: str = ""  # revision/instance or "local"


@dataclass(frozen=True, slots=True)
class LogQuery:
    # Entries at or above this severity; None = all.
    min_severity: str | None = None
    # Case-insensitive substring of the message; None/"" = all.
    text: str | None = None
    # Only entries strictly newer than this (live tail polling).
    since: datetime | None = None
    limit: int = 200

    def admits(self, entry: LogEntry) -> bool:
        """Whether `entry` passes this query's severity, text and time filters."""
        if self.min_severity and severity_rank(entry.severity) < severity_rank(self.min_severity):
            return False
        if self.text and self.text.casefold() not in entry.message.casefold():
            return False
        return self.since is None or entry.timestamp > self.since


def severity_rank(severity: str) -> int:
    """Order of severities; DEFAULT (unknown) ranks below DEBUG."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


class LogTail(ABC):
    """A live tail: entries accumulate in the background; the page drains them on a timer."""

    @abstractmethod
    def drain(self) -> list[LogEntry]:
        """New entries since the last drain, oldest first."""

    @abstractmethod
    def close(self) -> None: ...


def run_with_progress(
    work: Callable[[], T],
    *,
    on_progress: Callable[[float], None] | None,
    tick_s: float,
    name: str,
) -> T:
    """`work()` on a worker thread while this thread calls `on_progress(elapsed_s)` every tick.

    Streamlit updates a page only from the script's own thread, so the waiting happens
    elsewhere. Whatever `work` raised is raised here. If `on_progress` raises (a Streamlit
    rerun does, with a BaseException), that propagates at once and the worker finishes alone.
    """
    started = time.monotonic()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the caller's thread below
            failure.append(error)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    while True:
        worker.join(tick_s)
        if not worker.is_alive():
            break
        if on_progress is not None:
            on_progress(time.monotonic() - started)
    if failure:
        raise failure[0]
    return outcome[0]


class MetricKey(enum.StrEnum):
    STARTUP_LATENCY_S = "startup_latency_s"
    MEMORY_UTILIZATION = "memory_utilization"  # 0..1
    CPU_UTILIZATION = "cpu_utilization"  # 0..1
    GPU_MEMORY_UTILIZATION = "gpu_memory_utilization"  # 0..1
    GPU_UTILIZATION = "gpu_utilization"  # 0..1, the GPU's compute (its memory is reserved)
    INSTANCE_COUNT = "instance_count"
    REQUEST_LATENCY_S = "request_latency_s"
    REQUEST_COUNT = "request_count"
    ERROR_RATE = "error_rate"  # 0..1
    # Cloud Run's own count of the instance-seconds it bills: the cost's cross-check.
    BILLABLE_INSTANCE_TIME = "billable_instance_time"  # seconds per period
    # vLLM's own gauges, scraped from the service's /metrics (the combined chart).
    VLLM_REQUESTS_WAITING = "vllm_requests_waiting"
    VLLM_REQUESTS_RUNNING = "vllm_requests_running"
    KV_CACHE_USAGE = "kv_cache_usage"  # 0..1


# The seed runbook's alert lines: charts draw them, Operations turns a crossing into a hint,
# and the local platform calls a ready server degraded above the error-rate line.
THRESHOLDS: dict[MetricKey, float] = {
    MetricKey.MEMORY_UTILIZATION: 0.90,
    MetricKey.REQUEST_LATENCY_S: 120.0,
    MetricKey.ERROR_RATE: 0.05,
}


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One line on a chart. `label` distinguishes lines of one key (e.g. "p95", "active")."""

    key: MetricKey
    label: str
    unit: str
    points: list[tuple[datetime, float]] = field(default_factory=list)
    # Why this line could not be read ("" when it was): one failed query marks its own
    # chart instead of blanking the page.
    error: str = ""


@dataclass(frozen=True, slots=True)
class Revision:
    """One deployed version of the service and its share of traffic (ops-service, issue 13)."""

    name: str
    image: str  # the reference deployed (IMAGE@sha256:... or IMAGE:TAG)
    digest: str  # "sha256:..." when the reference pins one, else ""
    model_revision: str  # the Hub commit vLLM loads (--revision / label), "" when not stated
    created: datetime | None
    traffic_percent: int
    ready: bool = True


class Platform(ABC):
    """Where the OCR service runs, and what an operator can do to it."""

    name: str  # "local" | "cloudrun"
    # How often warm_up reports its elapsed time while waiting.
    progress_tick_s: float = 0.5

    @property
    @abstractmethod
    def service_url(self) -> str: ...

    @abstractmethod
    def client_settings(self) -> ClientSettings:
        """Settings for an `OCRClient` that talks to this platform's service (URL, auth)."""

    @abstractmethod
    def status(self) -> ServiceStatus: ...

    def startup_window_s(self) -> float:
        """How long the service may take to start, as deployed: how long a warm-up waits by
        default, and a request into a cold service (the clients' `admission_timeout_s`)."""
        return self.client_settings().admission_timeout_s

    def accepting_work(self) -> bool:
        """Whether pages sent now would be taken on: the worker claims jobs only then. True
        here: Cloud Run holds a request while an instance starts (the clients' admission
        phase), so a cold service takes work; a platform whose server loads says False."""
        return True

    def warm_up(
        self,
        *,
        timeout_s: float | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> WarmUpMeasurement:
        """`measure_warm_up` with `on_progress(elapsed_s)` called meanwhile (a live clock);
        `timeout_s` None waits for the service's startup window."""
        timeout = self.startup_window_s() if timeout_s is None else timeout_s
        return run_with_progress(
            lambda: self.measure_warm_up(timeout),
            on_progress=on_progress,
            tick_s=self.progress_tick_s,
            name=f"{self.name}-warm-up",
        )

    @abstractmethod
    def measure_warm_up(self, timeout_s: float) -> WarmUpMeasurement:
        """Bring the service to ready (starting it if needed) and measure how long it took.

        Blocks; failures the operator can act on come back as a not-ready measurement.
        """

    def billing(self, window: timedelta) -> tuple[list[MetricSeries], InstanceSize | None]:
        """What the window's cost is computed from: fine-grained instance and request counts
        and the size of one instance; nothing where nothing is billed (the local platform)."""
        return [], None

    @abstractmethod
    def scale(self, *, min_instances: int, max_instances: int | None = None) -> ActionResult:
        """Set the instance floor (0 = scale to zero) and optionally the ceiling."""

    @abstractmethod
    def logs(self, query: LogQuery) -> list[LogEntry]:
        """Recent entries matching the query, newest first."""

    @abstractmethod
    def tail(self, query: LogQuery) -> LogTail: ...

    @abstractmethod
    def metrics(self, window: timedelta) -> list[MetricSeries]: ...

    # --- revisions, traffic and requests in flight (ops-service, issue 13) -------------------

    # False where there is one server and nothing to route (local): the page explains why
    # instead of offering rollback and split.
    supports_traffic: bool = False
    # What `requests_in_flight` counts, in the words of the scale-to-zero confirmation.
    in_flight_source: str = "requests in flight"

    def revisions(self) -> list[Revision]:
        """Newest first, each with its share of traffic."""
        return []

    def set_traffic(self, split: Mapping[str, int]) -> ActionResult:
        """Send `split` (revision -> percent, summing to 100) of the traffic; one entry at
        100 is a rollback."""
        return ActionResult(False, f"The {self.name} platform cannot route traffic.")

    def requests_in_flight(self) -> int | None:
        """Requests the service is working on or holding now (None: cannot tell)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release background samplers, tails and clients."""
