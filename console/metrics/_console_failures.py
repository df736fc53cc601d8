"""OCR failures as the console saw them: pages of jobs that ended in a service error.

The service's error rate (Cloud Run's `request_count` by class, the local access log) only
counts requests that reached the server and got a 5xx. A page refused at the connection,
timed out on the way, or stopped by the open breaker never reaches it, so a run where every
page failed would read 0 %. The job store knows every page the console sent and how it
ended; this reads it for the same window as the charts.

Only service errors count (`ocr_core.ServiceError` and its kinds, by the class name the
job store keeps): a corrupt or encrypted page is bad input, not an OCR failure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from console._store import Store, from_ts, to_ts
from console.jobs._tables import jobs_table, pages_table
from console.platforms._base import MetricKey, MetricSeries
from ocr_core import ServiceError

# The error-rate chart's line for these pages, beside the server's "5xx".
CONSOLE_LABEL = "pages failed (console)"
# Kinds that mean the request never got an answer from the OCR server itself.
NEVER_REACHED = frozenset({"CircuitOpenError", "RequestTimeout", "ServiceUnavailable"})


def _service_error_names() -> frozenset[str]:
    names: set[str] = set()
    stack: list[type[ServiceError]] = [ServiceError]
    while stack:
        kind = stack.pop()
        names.add(kind.__name__)
        stack.extend(kind.__subclasses__())
    return frozenset(names)


SERVICE_ERRORS = _service_error_names()


@dataclass(frozen=True, slots=True)
class ConsoleFailures:
    """Pages the console sent to one service in a window, and how many failed."""

    pages: int = 0
    failed: int = 0
    # Error kind (class name) -> pages.
    by_kind: dict[str, int] = field(default_factory=dict)
    # (bucket end, failed pages / pages) for each bucket in which a page finished.
    rate_points: list[tuple[datetime, float]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.failed / self.pages if self.pages else None

    @property
    def never_reached(self) -> int:
        """Failed pages whose kind means the server never answered (refused, timed out,
        breaker open)."""
        return sum(n for kind, n in self.by_kind.items() if kind in NEVER_REACHED)

    def series(self) -> MetricSeries:
        """The failed share of pages per bucket, as a line of the error-rate chart."""
        return MetricSeries(MetricKey.ERROR_RATE, CONSOLE_LABEL, "ratio", list(self.rate_points))

    def summary(self, window: str) -> str:
        """One sentence for the page: how many pages failed, and of which kinds."""
        if not self.pages:
            return f"The console sent no OCR page to this service in the last {window}."
        text = (
            f"The console sent {self.pages} OCR page(s) in the last {window}; {self.failed} failed"
        )
        if self.failed:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.by_kind.items()))
            text += (
                f" ({self.never_reached} never got an answer from the server: refused, timed "
                f"out or stopped by the open breaker; by kind: {kinds})"
            )
        return text + "."


def console_failures(
    store: Store, service_url: str, *, since: datetime, bucket: timedelta
) -> ConsoleFailures:
    """Pages of this service's jobs that finished since `since`, grouped in `bucket`s."""
    p, j = pages_table, jobs_table
    rows = store.read(
        sa.select(p.c.finished_at, p.c.error_type)
        .join(j, j.c.id == p.c.job_id)
        .where(j.c.service_url == service_url, p.c.finished_at >= to_ts(since))
    )
    step = bucket.total_seconds()
    start = to_ts(since)
    sent: Counter[float] = Counter()
    failed: Counter[float] = Counter()
    kinds: dict[str, int] = defaultdict(int)
    for finished_at, error_type in rows:
        end = start + (int((finished_at - start) // step) + 1) * step
        sent[end] += 1
        if error_type in SERVICE_ERRORS:
            failed[end] += 1
            kinds[error_type] += 1
    points = [(from_ts(end), failed[end] / sent[end]) for end in sorted(sent)]
    return ConsoleFailures(sum(sent.values()), sum(failed.values()), dict(kinds), points)


@dataclass(frozen=True, slots=True)
class RecentPages:
    """The last pages the console sent to a service, newest first: evidence of health that
    a health check cannot give (it answers while every page times out)."""

    pages: int
    failed: int
    latest_failed: bool
    by_kind: dict[str, int]

    @property
    def failing(self) -> bool:
        """The newest page failed, or at least half of the recent ones did."""
        return self.failed > 0 and (self.latest_failed or 2 * self.failed >= self.pages)

    def sentence(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.by_kind.items()))
        return (
            f"{self.failed} of the last {self.pages} pages the console sent failed ({kinds}): "
            "the service answers its health check but not the pages. The Metrics page lists "
            "the console's failures; the Logs page shows them beside the server's lines."
        )


def recent_pages(store: Store, service_url: str, *, since: datetime, last: int = 20) -> RecentPages:
    """How the service's last `last` pages since `since` ended (service errors only count as
    failures: a corrupt page is bad input, not an unwell service)."""
    p, j = pages_table, jobs_table
    rows = store.read(
        sa.select(p.c.error_type)
        .join(j, j.c.id == p.c.job_id)
        .where(j.c.service_url == service_url, p.c.finished_at >= to_ts(since))
        .order_by(p.c.finished_at.desc())
        .limit(last)
    )
    kinds = Counter(kind for (kind,) in rows if kind in SERVICE_ERRORS)
    latest = bool(rows) and rows[0][0] in SERVICE_ERRORS
    return RecentPages(len(rows), sum(kinds.values()), latest, dict(kinds))


__all__ = [
    "CONSOLE_LABEL",
    "NEVER_REACHED",
    "SERVICE_ERRORS",
    "ConsoleFailures",
    "RecentPages",
    "console_failures",
    "recent_pages",
]
