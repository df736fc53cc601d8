"""Keep warm for N hours: raise the floor to 1 now, put it back later, even across restarts.

An operator before a batch wants a warm GPU for the afternoon, not a floor of 1 that bills
an idle L4 all week because nobody remembered to drop it. So the revert is a row in the
store (settings key `keep_warm:{platform}`), not a timer in one process: whichever console
process sees it overdue first applies it, on start or from its background timer.

Decisions:
- The revert goes back to the floor keep-warm found (0 for a scale-to-zero service), not
  blindly to 0. Keep-warm is refused when the floor is already above 0 and nothing is
  scheduled: that floor was set on purpose and is changed with Scale. A second keep-warm
  while one runs extends it and keeps the original floor to return to.
- Two consoles may share the store: a revert is claimed by deleting exactly the row that was
  read (a compare-and-delete), so only one process scales; the scale itself is idempotent.
- If someone changed the floor meanwhile (Scale, the CLI), the revert does not undo their
  change: it is skipped and audited as such.
- A revert the platform refuses (outage, permissions) is put back to retry in a minute, up
  to `MAX_ATTEMPTS`, each failure audited.
- When a floor above 0 was first seen is kept (`floor_raised_at:{platform}`), so the pages
  can warn about a floor left up for more than a day (an idle L4 bills all the while).

Every step is audited; the revert's actor is the system on behalf of who asked.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from console._recurring import RecurringProblem
from console._store import Store, from_ts, settings_table, to_ts
from console.platforms._base import ActionResult, Platform

__all__ = [
    "FLOOR_WARNING_AFTER",
    "KeepWarm",
    "KeepWarmSchedule",
    "KeepWarmTimer",
    "countdown",
]

logger = logging.getLogger("console.keep_warm")

SCHEDULE_KEY = "keep_warm:{platform}"
RAISED_KEY = "floor_raised_at:{platform}"
FLOOR_WARNING_AFTER = timedelta(days=1)
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)
SYSTEM_ACTOR = "system"
MAX_HOURS = 24.0 * 7


class Audit(Protocol):
    def __call__(
        self, action: str, target: str, ok: bool, detail: str, actor: str | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class KeepWarmSchedule:
    """A pending revert: at `until`, the floor goes back from `floor` to `revert_to`."""

    until: datetime
    floor: int  # what keep-warm set (the revert is skipped if the floor is no longer this)
    revert_to: int
    requested_by: str
    requested_at: datetime
    attempts: int = 0

    def to_json(self) -> str:
        row = asdict(self)
        row["until"], row["requested_at"] = to_ts(self.until), to_ts(self.requested_at)
        return json.dumps(row, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KeepWarmSchedule:
        row = json.loads(text)
        row["until"], row["requested_at"] = from_ts(row["until"]), from_ts(row["requested_at"])
        return cls(**row)


def countdown(left: timedelta) -> str:
    """`2 h 05 min`, `4 min 10 s`, `12 s`: the time left in words a sidebar can hold."""
    seconds = max(int(left.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KeepWarm:
    """Keep-warm schedules of one platform, in `store`; `audit` writes the audit log."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        audit: Audit,
        *,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.platform = platform
        self.store = store
        self._audit = audit
        self._now = now
        self._key = SCHEDULE_KEY.format(platform=platform.name)
        self._raised_key = RAISED_KEY.format(platform=platform.name)
        self.scheduled = threading.Event()  # set when a schedule is written (wakes the timer)

    # --- the schedule row ----------------------------------------------------------------------

    def _row(self) -> str | None:
        t = settings_table
        rows = self.store.read(sa.select(t.c.value).where(t.c.key == self._key))
        return rows[0][0] if rows else None

    def schedule(self) -> KeepWarmSchedule | None:
        row = self._row()
        return KeepWarmSchedule.from_json(row) if row is not None else None

    def _claim(self, row: str) -> bool:
        """Delete the row only if it is still exactly `row`: True for the one process that did."""
        t = settings_table
        with self.store.transaction() as connection:
            deleted = connection.execute(t.delete().where(t.c.key == self._key, t.c.value == row))
            return deleted.rowcount == 1

    def _write(self, schedule: KeepWarmSchedule) -> None:
        t = settings_table
        with self.store.transaction() as connection:
            row = {"key": self._key, "value": schedule.to_json()}
            if not connection.execute(t.update().where(t.c.key == self._key), row).rowcount:
                connection.execute(t.insert(), row)

    def _put_back(self, schedule: KeepWarmSchedule) -> None:
        """Re-insert a claimed schedule unless another one was written meanwhile."""
        t = settings_table
        with self.store.transaction() as connection:
            present = connection.execute(sa.select(t.c.key).where(t.c.key == self._key)).first()
            if present is None:
                connection.execute(t.insert(), {"key": self._key, "value": schedule.to_json()})

    # --- actions -------------------------------------------------------------------------------

    def start(self, duration: timedelta, actor: str) -> ActionResult:
        """Floor to 1 (or kept) now, back to the floor found after `duration`."""
        hours = duration.total_seconds() / 3600
        if not 0 < hours <= MAX_HOURS:
            result = ActionResult(False, f"Keep warm for 0 to {MAX_HOURS:g} hours, not {hours:g}.")
            self._audit("keep warm", "-", False, result.message, actor)
            return result
        now = self._now()
        running = self.schedule()
        try:
            floor = self.platform.status().min_instances or 0
        except Exception as error:  # status unreadable: keep-warm cannot know what to go back to
            result = ActionResult(False, f"Cannot read the floor to return to: {error}")
            self._audit("keep warm", "-", False, result.message, actor)
            return result
        if running is None and floor > 0:
            result = ActionResult(
                False,
                f"The floor is already {floor}: the service is kept warm until someone lowers "
                "it. Use Scale to change it.",
            )
            self._audit("keep warm", "-", False, result.message, actor)
            return result
        revert_to = running.revert_to if running is not None else floor
        kept = max(floor, 1)
        planned = KeepWarmSchedule(now + duration, kept, revert_to, actor, now)
        self._write(planned)
        target = f"floor {kept} until {planned.until:%Y-%m-%d %H:%M} UTC"
        try:
            scaled = (
                ActionResult(True, f"The floor is already {kept}.")
                if floor == kept
                else self.platform.scale(min_instances=kept)
            )
        except Exception as error:
            scaled = ActionResult(False, f"{type(error).__name__}: {error}")
        if not scaled.ok:
            self.store.delete_setting(self._key)
            self._audit("keep warm", target, False, scaled.message, actor)
            return scaled
        self.observe_floor(kept)
        verb = "Extended: kept" if running is not None else "Kept"
        message = (
            f"{verb} warm for {countdown(duration)}; then the floor goes back to "
            f"{revert_to}. {scaled.message}"
        )
        self._audit("keep warm", target, True, message, actor)
        self.scheduled.set()
        return ActionResult(True, message)

    def cancel(self, actor: str) -> ActionResult:
        """Drop the pending revert; the floor stays where it is (Scale lowers it)."""
        row = self._row()
        if row is None or not self._claim(row):
            result = ActionResult(False, "No keep-warm is scheduled.")
            self._audit("keep warm cancelled", "-", False, result.message, actor)
            return result
        schedule = KeepWarmSchedule.from_json(row)
        message = (
            f"The revert to floor {schedule.revert_to} at {schedule.until:%H:%M} UTC is "
            f"cancelled; the floor stays {schedule.floor} until someone lowers it."
        )
        self._audit("keep warm cancelled", f"floor {schedule.floor}", True, message, actor)
        return ActionResult(True, message)

    def apply_due(self) -> ActionResult | None:
        """Apply the revert if it is due and this process claims it; None when nothing was due."""
        row = self._row()
        if row is None:
            return None
        schedule = KeepWarmSchedule.from_json(row)
        if schedule.until > self._now() or not self._claim(row):
            return None
        actor = f"{SYSTEM_ACTOR} (for {schedule.requested_by})"
        target = f"floor {schedule.revert_to}"
        try:
            floor = self.platform.status().min_instances
            if floor is not None and floor != schedule.floor:
                result = ActionResult(
                    True,
                    f"Skipped: the floor is {floor}, not the {schedule.floor} keep-warm set; "
                    "someone changed it since, and their change stands.",
                )
                self._audit("keep warm ended", target, True, result.message, actor)
                self.observe_floor(floor)
                return result
            result = self.platform.scale(min_instances=schedule.revert_to)
        except Exception as error:  # the platform could not act: retried below
            result = ActionResult(False, f"{type(error).__name__}: {error}")
        if result.ok:
            self.observe_floor(schedule.revert_to)
            message = f"Keep-warm ended: floor back to {schedule.revert_to}. {result.message}"
            self._audit("keep warm ended", target, True, message, actor)
            return ActionResult(True, message)
        attempts = schedule.attempts + 1
        if attempts < MAX_ATTEMPTS:
            retry = KeepWarmSchedule(
                self._now() + RETRY_AFTER,
                schedule.floor,
                schedule.revert_to,
                schedule.requested_by,
                schedule.requested_at,
                attempts,
            )
            self._put_back(retry)
            why = f"{result.message} (attempt {attempts} of {MAX_ATTEMPTS}; retrying in a minute)"
        else:
            why = f"{result.message} (gave up after {MAX_ATTEMPTS} attempts; lower it with Scale)"
        self._audit("keep warm ended", target, False, why, actor)
        return ActionResult(False, why)

    # --- how long a floor has been up ----------------------------------------------------------

    def observe_floor(self, floor: int | None) -> None:
        """Remember when a floor above 0 was first seen; forget it when the floor is 0."""
        if floor is None:
            return
        raised = self.store.get_setting(self._raised_key)
        if floor > 0 and raised is None:
            self.store.set_setting(self._raised_key, to_ts(self._now()))
        elif floor == 0 and raised is not None:
            self.store.delete_setting(self._raised_key)

    def floor_raised_at(self) -> datetime | None:
        raised = self.store.get_setting(self._raised_key)
        return None if raised is None else from_ts(float(raised))

    def notices(self, floor: int | None) -> tuple[str | None, str | None]:
        """(countdown, warning) for the pages: the pending revert, and a floor left up too long.

        `floor` is what the page's status read; it also updates when the floor went up."""
        self.observe_floor(floor)
        now = self._now()
        schedule = self.schedule()
        pending = None
        if schedule is not None:
            pending = (
                f"Kept warm until {schedule.until:%H:%M} UTC ({countdown(schedule.until - now)} "
                f"left), then the floor goes back to {schedule.revert_to}."
            )
            if schedule.until <= now:
                pending = f"Keep-warm ended at {schedule.until:%H:%M} UTC; reverting the floor…"
        raised = self.floor_raised_at() if floor else None
        warning = None
        if raised is not None and schedule is None and now - raised > FLOOR_WARNING_AFTER:
            days = (now - raised) / timedelta(days=1)
            warning = (
                f"The floor has been {floor} for {days:.1f} days (since {raised:%Y-%m-%d %H:%M} "
                "UTC): an idle instance is billed all the while. Scale to zero if no batch "
                "needs it."
            )
        return pending, warning


class KeepWarmTimer:
    """The process's background timer: calls `apply_due` every `interval_s` (and at once)."""

    def __init__(
        self,
        apply_due: Callable[[], object],
        *,
        interval_s: float = 5.0,
        wake: threading.Event | None = None,
    ) -> None:
        self._apply_due = apply_due
        self._interval_s = interval_s
        self._wake = wake or threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="keep-warm-timer", daemon=True)

    def start(self) -> KeepWarmTimer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        problem = RecurringProblem(logger, "applying a due keep-warm revert")
        while not self._stop.is_set():
            try:
                self._apply_due()
            except Exception as error:  # a store outage must not end the timer: next tick
                problem.failed(error)
            else:
                problem.succeeded()
            self._wake.wait(self._interval_s)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
