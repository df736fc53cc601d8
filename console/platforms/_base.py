"""The `Platform` seam: what the console needs from wherever the OCR service runs.

Two implementations: `local` (the embedded default: the local OCR server as a child
process) and `cloudrun` (google-cloud-run / -logging / -monitoring). Pages only ever talk
to this interface, through `console/_operations.py`, which adds the audit log and history.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ocr_core import ClientSettings, WarmUpReport


class ServiceState(enum.StrEnum):
    DOWN = "down"  # nothing is running (scaled to zero, stopped)
    STARTING = "starting"  # a process/instance exists but the model does not answer yet
    READY = "ready"
    DEGRADED = "degraded"  # answers, but unhealthy conditions (failed revision, errors)


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


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str


SEVERITIES = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


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


class LogTail(ABC):
    """A live tail: entries accumulate in the background; the page drains them on a timer."""

    @abstractmethod
    def drain(self) -> list[LogEntry]:
        """New entries since the last drain, oldest first."""

    @abstractmethod
    def close(self) -> None: ...


class MetricKey(enum.StrEnum):
    STARTUP_LATENCY_S = "startup_latency_s"
    MEMORY_UTILIZATION = "memory_utilization"  # 0..1
    CPU_UTILIZATION = "cpu_utilization"  # 0..1
    GPU_MEMORY_UTILIZATION = "gpu_memory_utilization"  # 0..1
    INSTANCE_COUNT = "instance_count"
    REQUEST_LATENCY_S = "request_latency_s"
    REQUEST_COUNT = "request_count"
    ERROR_RATE = "error_rate"  # 0..1


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


class Platform(ABC):
    """Where the OCR service runs, and what an operator can do to it."""

    name: str  # "local" | "cloudrun"

    @property
    @abstractmethod
    def service_url(self) -> str: ...

    @abstractmethod
    def client_settings(self) -> ClientSettings:
        """Settings for an `OCRClient` that talks to this platform's service (URL, auth)."""

    @abstractmethod
    def status(self) -> ServiceStatus: ...

    @abstractmethod
    def warm_up(
        self, *, timeout_s: float = 300.0, on_progress: Callable[[float], None] | None = None
    ) -> WarmUpReport:
        """Bring the service to ready and measure how long it took (the cold-start time).

        `on_progress(elapsed_s)` is called while waiting so the page can show a live clock.
        """

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

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release background samplers, tails and clients."""
