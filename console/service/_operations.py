"""The service layer the Streamlit pages call, and the only one.

A `Platform` knows how to run the service; `Operations` adds what an operator's tool owes
its users on top: every action is written to the audit log (who, what, when, outcome, also
when it failed or was interrupted), every warm-up lands in the warm-up history (and is
called a cold start only when the service had to start), one circuit breaker is shared by
every OCR client of the service and closed again by a successful warm-up, the scaling before a
scale-to-zero is remembered so "Restore" can bring it back, and metric series are checked
against the seed runbook's thresholds with a plain-language hint. Actions that fail come
back as results (`ActionResult(ok=False)`, a not-ready `WarmUpRecord`) and are audited;
reads (status, logs, metrics) raise the platform's own errors, whose messages are written
for operators, for the page to show.

Who is the actor: the `actor` argument, else `LIGHTONOCR_ACTOR` (via `console.runtime`),
else the operating-system user running the console (`getpass.getuser()`). The console has
no login of its own; on a shared host, set `LIGHTONOCR_ACTOR` per operator.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from console._identity import Identity, os_user
from console._render import count_noun
from console._store import AuditRecord, Store, WarmUpRecord
from console.jobs import JobStore
from console.metrics._console_failures import recent_pages
from console.metrics._console_log import MergedTail, console_log, merged
from console.platforms._base import (
    THRESHOLDS,
    ActionResult,
    LogEntry,
    LogQuery,
    LogTail,
    MetricKey,
    MetricSeries,
    Platform,
    Revision,
    ServiceState,
    ServiceStatus,
    WarmUpMeasurement,
)
from console.service._backfill_actions import BackfillActions
from console.service._keep_warm import KeepWarm
from console.service._metrics_views import MetricsViews
from console.service._quality_actions import QualityActions
from console.service._review_actions import ReviewActions
from console.service._revisions import TrafficChange
from ocr_core import CircuitBreaker

__all__ = [
    "THRESHOLDS",
    "AuditRecord",
    "Operations",
    "ThresholdBreach",
    "WarmUpRecord",
]

_HINTS: dict[MetricKey, str] = {
    MetricKey.MEMORY_UTILIZATION: (
        "Memory reached {value:.0%} (alert line {threshold:.0%}) at {at}. Close to the limit "
        "the server is killed and in-flight pages fail: lower the number of concurrent "
        "requests (--max-num-seqs) or give the instance more memory."
    ),
    MetricKey.REQUEST_LATENCY_S: (
        "Requests took up to {value:.0f} s (alert line {threshold:.0f} s) at {at}. Pages are "
        "queueing or the model is looping on long outputs: raise the instance floor or "
        "ceiling before a batch, warm up first, and check the logs for truncated pages."
    ),
    MetricKey.ERROR_RATE: (
        "{value:.0%} of requests failed (alert line {threshold:.0%}) at {at}. The console's "
        "own failed pages (timeouts and refusals the server never logs) are counted below; "
        "the Logs page at ERROR lists each (job, page, reason, request id) beside the "
        "server's lines. Failed pages can be retried from the workbench."
    ),
}

# How far back the console's own pages count as evidence of the service's health.
RECENT_PAGES_WINDOW = timedelta(minutes=10)
# Cold starts measured by warm-ups, drawn beside the platform's own startup latency.
WARM_UP_LABEL = "warm-up"
_SCALING_KEY = "restore_scaling:{platform}"


@dataclass(frozen=True, slots=True)
class ThresholdBreach:
    key: MetricKey
    label: str
    value: float
    threshold: float
    hint: str


class Operations(BackfillActions, QualityActions, ReviewActions, MetricsViews):
    """One platform plus the audit log, warm-up history and restore memory in `store`."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        *,
        actor: str | None = None,
        identity_required: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.store = store
        self.jobs = JobStore(store)
        self.actor = actor or os_user()
        # Behind IAP (or OIDC) every action names its verified person; the process's own
        # actor only stands in on the local default, where the person is at the keyboard.
        self.identity_required = identity_required
        self._breaker: CircuitBreaker | None = None
        self._breaker_lock = threading.Lock()
        # `now`: the keep-warm clock (tests pass their own instead of waiting for real time).
        self.keep_warm = KeepWarm(platform, store, self._audit, **({"now": now} if now else {}))

    @property
    def breaker(self) -> CircuitBreaker:
        """The one circuit breaker of this service: every OCR client of the console uses it,
        so the sidebar shows what all calls see and a warm-up can close it for all of them."""
        with self._breaker_lock:
            if self._breaker is None:
                settings = self.platform.client_settings()
                self._breaker = CircuitBreaker(
                    settings.breaker_failure_threshold, settings.breaker_cooldown_s
                )
            return self._breaker

    def __repr__(self) -> str:
        return f"Operations(platform={self.platform.name!r}, actor={self.actor!r})"

    def status(self) -> ServiceStatus:
        """The platform's status, checked against the evidence of the console's own recent
        pages: a service whose health check says ready while its pages fail is degraded."""
        status = self.platform.status()
        if status.state is not ServiceState.READY:
            return status
        since = datetime.now(UTC) - RECENT_PAGES_WINDOW
        try:
            recent = recent_pages(self.store, self.platform.service_url, since=since)
        except Exception:  # the store is away: the platform's word is all there is
            return status
        if not recent.failing:
            return status
        return dataclasses.replace(status, state=ServiceState.DEGRADED, detail=recent.sentence())

    def warm_up(
        self,
        *,
        timeout_s: float | None = None,
        on_progress: Callable[[float], None] | None = None,
        identity: Identity | None = None,
    ) -> WarmUpRecord:
        """Warm the service and decide what the measurement was: a cold start when the
        service had to start, an answer time when it was already warm, or a failure.
        `timeout_s` None waits for the service's startup window, as deployed.

        The record goes to the warm-up history and the audit log, also when the platform
        raised, and also when the wait was interrupted (a Streamlit rerun raises a
        BaseException from `on_progress`; the server may still come up). A ready service
        closes the shared breaker, so pages that failed during an outage can be retried.
        """
        actor = self.authorise(identity, "warm up")
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            measured = self.platform.warm_up(timeout_s=timeout_s, on_progress=on_progress)
        except Exception as error:  # a platform bug or outage: still a result and a record
            measured = WarmUpMeasurement(
                False, time.monotonic() - clock, 0, error=f"{type(error).__name__}: {error}"
            )
        except BaseException:  # a rerun or a stop: record it, then let it end the script
            elapsed = time.monotonic() - clock
            why = "interrupted (the page was reloaded or left); the service may still be starting"
            self._record_warm_up(started, WarmUpMeasurement(False, elapsed, 0, error=why), actor)
            raise
        ended = datetime.now(UTC)
        record = self._record_warm_up(started, measured, actor)
        self._record_timeline(record, measured, ended)
        if record.ready:
            self.breaker.reset()
        return record

    def _record_warm_up(
        self, at: datetime, measured: WarmUpMeasurement, actor: str
    ) -> WarmUpRecord:
        record = WarmUpRecord(
            at=at,
            platform=self.platform.name,
            ready=measured.ready,
            seconds=measured.seconds,
            attempts=measured.attempts,
            error=measured.error,
            cold=measured.ready and not measured.was_ready,
        )
        self.store.add_warm_up(record)
        checks = count_noun(record.attempts, "health check")
        if record.cold:
            detail = f"cold start: ready in {record.seconds:.1f} s after {checks}"
        elif record.ready:
            detail = f"already warm: answered in {record.seconds:.1f} s"
        else:
            detail = f"not ready after {record.seconds:.1f} s: {record.error}"
        self._audit("warm up", self.platform.service_url, record.ready, detail, actor)
        return record

    def _scale(
        self, action: str, min_instances: int, max_instances: int | None, actor: str
    ) -> ActionResult:
        target = f"floor {min_instances}" + (
            "" if max_instances is None else f", ceiling {max_instances}"
        )
        try:
            result = self.platform.scale(min_instances=min_instances, max_instances=max_instances)
        except Exception as error:  # the platform could not act: say so, and audit it
            result = ActionResult(False, f"{type(error).__name__}: {error}")
        self._audit(action, target, result.ok, result.message, actor)
        if result.ok:  # when a floor above 0 went up, for the "left up for days" warning
            self.keep_warm.observe_floor(min_instances)
        return result

    def _remember(self, min_instances: int, max_instances: int | None) -> None:
        self.store.set_setting(
            _SCALING_KEY.format(platform=self.platform.name),
            {"min_instances": min_instances, "max_instances": max_instances},
        )

    def scale(
        self,
        *,
        min_instances: int,
        max_instances: int | None = None,
        identity: Identity | None = None,
    ) -> ActionResult:
        """Set the floor (and ceiling); a non-zero floor becomes what "Restore" goes back to."""
        actor = self.authorise(identity, "scale")
        result = self._scale("scale", min_instances, max_instances, actor)
        if result.ok and min_instances > 0:
            self._remember(min_instances, max_instances)
        return result

    def scale_to_zero(self, *, identity: Identity | None = None) -> ActionResult:
        """Drop the floor to 0, remembering the current floor and ceiling for `restore`."""
        actor = self.authorise(identity, "scale to zero")
        try:
            current = self.platform.status()
        except Exception:  # status unreadable: scale anyway, restore falls back to the last scale
            current = None
        if current is not None and (current.min_instances or 0) > 0:
            self._remember(current.min_instances or 0, current.max_instances)
        return self._scale("scale to zero", 0, None, actor)

    def restore(self, *, identity: Identity | None = None) -> ActionResult:
        """Go back to the floor and ceiling remembered before the last scale to zero."""
        actor = self.authorise(identity, "restore")
        remembered = self.store.get_setting(_SCALING_KEY.format(platform=self.platform.name))
        if not remembered:
            result = ActionResult(
                False, "Nothing to restore: no earlier non-zero scaling is recorded."
            )
            self._audit("restore", "-", False, result.message, actor)
            return result
        floor, ceiling = remembered["min_instances"], remembered["max_instances"]
        return self._scale("restore", floor, ceiling, actor)

    # --- keep warm (the logic is console/_keep_warm.py) ------------------------------------------

    def start_keep_warm(self, hours: float, *, identity: Identity | None = None) -> ActionResult:
        """Floor 1 now and back to the floor found after `hours`, stored to survive restarts."""
        actor = self.authorise(identity, "keep warm")
        return self.keep_warm.start(timedelta(hours=hours), actor)

    def cancel_keep_warm(self, *, identity: Identity | None = None) -> ActionResult:
        actor = self.authorise(identity, "keep warm cancelled")
        return self.keep_warm.cancel(actor)

    def apply_due_keep_warm(self) -> ActionResult | None:
        """The revert, if due (on start and by the process's timer); audited as the system."""
        return self.keep_warm.apply_due()

    # --- revisions, traffic and requests in flight (console/_revisions.py) ---------------------

    def revisions(self) -> list[Revision]:
        return self.platform.revisions()

    def set_traffic(
        self, change: TrafficChange, *, identity: Identity | None = None
    ) -> ActionResult:
        """Roll back or split traffic (operators only, refused here whatever the page showed)."""
        actor = self.authorise(identity, change.action, change.target)
        try:
            result = self.platform.set_traffic(change.shares)
        except Exception as error:  # the platform could not act: say so, and audit it
            result = ActionResult(False, f"{type(error).__name__}: {error}")
        self._audit(change.action, change.target, result.ok, result.message, actor)
        return result

    def requests_in_flight(self) -> int | None:
        """For the scale-to-zero confirmation; None when the platform cannot tell."""
        try:
            return self.platform.requests_in_flight()
        except Exception:  # a confirmation must still show
            return None

    def logs(self, query: LogQuery) -> list[LogEntry]:
        """The server's entries and the console's own failed pages, newest first: a page
        that never reached the server (timed out, refused) is only in the console's."""
        ours = console_log(self.store, self.platform.service_url, query)
        return merged(self.platform.logs(query), ours, query.limit)

    def tail(self, query: LogQuery) -> LogTail:
        def ours(since_query: LogQuery) -> list[LogEntry]:
            return console_log(self.store, self.platform.service_url, since_query)

        return MergedTail(self.platform.tail(query), ours, query)

    def metrics(self, window: timedelta) -> list[MetricSeries]:
        """The platform's series plus the cold starts measured by warm-ups in the window
        (a warm-up of a service that was already warm measured no cold start)."""
        series = list(self.platform.metrics(window))
        if self.platform.name == "local":
            # Cold starts have one home, the warm-ups the Service page lists: the local
            # server's "engine ready" log lines are no cold start anyone waited for.
            series = [s for s in series if s.key is not MetricKey.STARTUP_LATENCY_S]
        since = datetime.now(UTC) - window
        series += self._vllm_series(since)
        warm_ups = [
            record
            for record in self.store.warm_ups(
                platform=self.platform.name, since=since, limit=10_000
            )
            if record.cold
        ]
        if warm_ups:
            series.append(
                MetricSeries(
                    key=MetricKey.STARTUP_LATENCY_S,
                    label=WARM_UP_LABEL,
                    unit="s",
                    points=[(record.at, record.seconds) for record in reversed(warm_ups)],
                )
            )
        return series

    def breaches(self, series: list[MetricSeries]) -> list[ThresholdBreach]:
        """One breach per line that went over its runbook threshold, at its worst point."""
        found: list[ThresholdBreach] = []
        for line in series:
            threshold = THRESHOLDS.get(line.key)
            if threshold is None or not line.points:
                continue
            at, worst = max(line.points, key=lambda point: point[1])
            if worst <= threshold:
                continue
            when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            hint = _HINTS[line.key].format(value=worst, threshold=threshold, at=when)
            found.append(ThresholdBreach(line.key, line.label, worst, threshold, hint))
        return found

    def warm_up_history(self, limit: int = 50) -> list[WarmUpRecord]:
        """This platform's warm-ups, newest first."""
        return self.store.warm_ups(platform=self.platform.name, limit=limit)

    def audit_log(self, limit: int = 100) -> list[AuditRecord]:
        """Every platform's actions, newest first."""
        return self.store.audit(limit)

    def close(self) -> None:
        self._close_metrics()
        self.platform.close()
        self.store.close()
