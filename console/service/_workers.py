"""Which workers are alive, from the beats they write to the store.

The UI has no runner of its own, so "jobs wait because no worker runs" must be readable
from the store: each worker writes a beat (its owner name, pid, host, time and the problems
it met) every few seconds and deletes it when it stops; a beat older than `STALE_AFTER_S`
belongs to a worker that died.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from console._store import Store
from ocr_core import BreakerSnapshot, BreakerState

PREFIX = "worker:"
STALE_AFTER_S = 30.0


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    owner: str
    pid: int
    host: str
    beat_at: float  # time.time()
    started_at: float
    # Why the runner (key "0") or a job (its id) could not go on, as the runner said.
    problems: dict[str, str] = field(default_factory=dict)
    # The breaker the worker's pages go through (BreakerSnapshot's fields), when it beat.
    breaker: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        return PREFIX + self.owner


def write_beat(store: Store, beat: WorkerBeat) -> None:
    store.set_setting(beat.key(), asdict(beat))


def remove_beat(store: Store, owner: str) -> None:
    store.delete_setting(PREFIX + owner)


def live_workers(store: Store, *, now: float | None = None) -> list[WorkerBeat]:
    """Workers whose last beat is recent, newest first."""
    now = time.time() if now is None else now
    beats = []
    for value in store.settings_under(PREFIX).values():
        try:
            beat = WorkerBeat(**value)
        except TypeError:  # a row written by another version: not ours to judge
            continue
        if now - beat.beat_at <= STALE_AFTER_S:
            beats.append(beat)
    return sorted(beats, key=lambda b: b.beat_at, reverse=True)


def worker_problems(store: Store) -> dict[str, str]:
    """What the live workers could not do: "0" for a runner-wide problem, else a job id."""
    found: dict[str, str] = {}
    for beat in live_workers(store):
        found.update(beat.problems)
    return found


def snapshot_fields(snapshot: BreakerSnapshot) -> dict[str, Any]:
    return {
        "state": snapshot.state.value,
        "consecutive_failures": snapshot.consecutive_failures,
        "retry_in_s": snapshot.retry_in_s,
        "last_error": snapshot.last_error,
    }


def worker_breaker(store: Store, *, now: float | None = None) -> BreakerSnapshot | None:
    """The breaker of the newest live worker (the one job pages go through), its time to
    the next probe counted from now; None when no worker beats."""
    now = time.time() if now is None else now
    for beat in live_workers(store, now=now):
        if beat.breaker:
            fields = beat.breaker
            waited = max(now - beat.beat_at, 0.0)
            return BreakerSnapshot(
                BreakerState(fields["state"]),
                int(fields["consecutive_failures"]),
                max(float(fields["retry_in_s"]) - waited, 0.0),
                fields.get("last_error"),
            )
    return None
