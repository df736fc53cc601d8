"""Fair lanes in front of the sandbox's workers: no document holds them for long.

Every task names its lane (an opened document). A free worker goes to the lane with pending
work that has used the least worker time so far (start-time fair queueing), so a document
whose pages each cost 30 s of rendering gets one turn while a document of ordinary pages
gets many; and one lane holds at most `workers - 1` of them. A lane that arrives late
starts level with the least-served busy lane, not at zero, so it cannot starve lanes that
were there first.

Fair turns only help once a worker frees, and a hostile page holds one for its whole limit.
So beside the `workers` there is a `reserve`: a worker only a light lane takes (one that has
used under `LIGHT_S` of worker time and runs nothing now), and takes first. While hostile
documents hold (and kill and restart) every ordinary worker, an ordinary document's page
still starts at once.

A lane whose tasks breach the sandbox's limits `quarantine_after` times is quarantined: its
pending and later tasks fail at once with `DocumentQuarantined`, without a worker. A hostile
file thus costs the sandbox a few limit's worth of time, not one limit per page.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import DocumentQuarantined, ResourceLimitExceeded

# Schedules one task on a worker (an ordinary one, or with True the reserve); the future it
# returns ends when the task does.
Dispatch = Callable[[tuple[Any, ...], bool], concurrent.futures.Future[Any]]
# Turns what a worker raised into our typed error (the sandbox's `_translate`).
Translate = Callable[[BaseException], BaseException]

QUARANTINE_AFTER = 3
# A lane that has used less worker time than this may take a reserve worker.
LIGHT_S = 2.0


class LaneFuture(concurrent.futures.Future[Any]):
    """A task's future: cancelling it takes the task out of its lane or, once a worker runs
    it, ends that worker (pebble's cancel). It stays cancellable while it runs, so it says
    `running()` from its dispatch on without entering the RUNNING state."""

    dispatched = False

    def running(self) -> bool:
        return self.dispatched and not self.done()


@dataclass(eq=False)
class _Task:
    args: tuple[Any, ...]
    outer: LaneFuture
    started: float = 0.0
    reserve: bool = False
    inner: concurrent.futures.Future[Any] | None = None


@dataclass(eq=False)
class _Lane:
    name: str
    used_s: float = 0.0
    running: list[_Task] = field(default_factory=list)
    pending: deque[_Task] = field(default_factory=deque)
    breaches: list[str] = field(default_factory=list)
    # A lane of one unrelated task: dropped once that task ends (a document's is forgotten
    # when the document closes).
    single: bool = False
    # When it last had a task dispatched: among equally served lanes, the longest waiting
    # goes first (round robin).
    turn: int = 0

    @property
    def idle(self) -> bool:
        return not (self.pending or self.running)

    def quarantined(self, limit: int) -> bool:
        return len(self.breaches) >= limit

    def served(self, now: float) -> float:
        """Worker seconds used, counting the tasks running now up to `now`."""
        return self.used_s + sum(now - task.started for task in self.running)


class Lanes:
    """Pending tasks by lane, dispatched to at most `workers` (+ `reserve` for light lanes)
    at once, fairly."""

    def __init__(
        self,
        workers: int,
        dispatch: Dispatch,
        translate: Translate,
        *,
        reserve: int = 0,
        quarantine_after: int = QUARANTINE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workers = workers
        self.reserve = reserve
        # A lane holds at most this many ordinary workers, so two hostile documents cannot
        # take them all plus the reserve (a single worker is shared in turns).
        self.per_lane = max(1, workers - 1)
        self.quarantine_after = quarantine_after
        self._dispatch = dispatch
        self._translate = translate
        self._clock = clock
        self._lanes: dict[str, _Lane] = {}
        self._names = itertools.count()
        self._turns = 0
        self._lock = threading.Lock()

    def new_lane(self, prefix: str = "lane") -> str:
        return f"{prefix}-{next(self._names)}"

    def submit(self, lane: str | None, args: tuple[Any, ...]) -> LaneFuture:
        """Queue a task in `lane` (None: a lane of its own); its future has the task's value
        or its typed error."""
        single = lane is None
        lane = self.new_lane("task") if lane is None else lane
        outer = LaneFuture()
        with self._lock:
            state = self._lanes.get(lane)
            if state is None:
                state = self._lanes[lane] = _Lane(lane, used_s=self._level(), single=single)
            if state.quarantined(self.quarantine_after):
                outer.set_exception(_quarantined(state))
                return outer
            state.pending.append(_Task(args, outer))
            ready = self._take()
        self._start(ready)
        return outer

    def forget(self, lane: str) -> None:
        """The document is closed: drop what it still had queued and its account."""
        with self._lock:
            state = self._lanes.pop(lane, None)
        if state is not None:
            for task in state.pending:
                task.outer.cancel()

    def breaches(self, lane: str) -> int:
        with self._lock:
            state = self._lanes.get(lane)
            return len(state.breaches) if state else 0

    # --- under the lock ---------------------------------------------------------------------

    def _level(self) -> float:
        """Where a new lane starts: level with the least-served lane that has work."""
        now = self._clock()
        busy = [lane.served(now) for lane in self._lanes.values() if lane.pending or lane.running]
        return min(busy, default=0.0)

    def _take(self) -> list[tuple[_Lane, _Task]]:
        """Tasks to start now, each taken from the least-served lane that may run one more."""
        chosen: list[tuple[_Lane, _Task]] = []
        tasks = [task for lane in self._lanes.values() for task in lane.running]
        reserved = sum(task.reserve for task in tasks)
        ordinary = len(tasks) - reserved
        now = self._clock()
        while True:
            # A light lane (one that has barely used a worker and runs nothing) goes to the
            # reserve when it is free: the ordinary workers may be busy dying and restarting
            # under hostile pages. Other lanes, and light ones when the reserve is taken, go
            # to the ordinary workers, at most `per_lane` each.
            light = [
                lane
                for lane in self._lanes.values()
                if lane.pending and not lane.running and lane.served(now) < LIGHT_S
            ]
            in_reserve = bool(light) and reserved < self.reserve
            if in_reserve:
                candidates = light
            elif ordinary < self.workers:
                candidates = [
                    lane
                    for lane in self._lanes.values()
                    if lane.pending and len(lane.running) < self.per_lane
                ]
            else:
                break
            if not candidates:
                break
            lane = min(candidates, key=lambda candidate: (candidate.served(now), candidate.turn))
            task = lane.pending.popleft()
            if task.outer.cancelled():
                continue  # cancelled while it waited: it never needs a worker
            task.started = now
            task.reserve = in_reserve
            task.outer.dispatched = True
            self._turns += 1
            lane.turn = self._turns
            lane.running.append(task)
            chosen.append((lane, task))
            reserved += in_reserve
            ordinary += not in_reserve
        for name in [n for n, lane in self._lanes.items() if lane.single and lane.idle]:
            del self._lanes[name]
        return chosen

    # --- outside the lock ---------------------------------------------------------------------

    def _start(self, ready: list[tuple[_Lane, _Task]]) -> None:
        for lane, task in ready:
            try:
                task.inner = self._dispatch(task.args, task.reserve)
            except BaseException as exc:  # the pool could not take it: the task fails alone
                self._finished(lane, task, None, exc)
                continue
            task.inner.add_done_callback(functools.partial(self._done, lane, task))
            task.outer.add_done_callback(functools.partial(_cancel_inner, task.inner))

    def _done(self, lane: _Lane, task: _Task, inner: concurrent.futures.Future[Any]) -> None:
        if inner.cancelled():
            self._finished(lane, task, None, concurrent.futures.CancelledError())
            return
        error = inner.exception()
        self._finished(lane, task, inner.result() if error is None else None, error)

    def _finished(self, lane: _Lane, task: _Task, value: Any, error: BaseException | None) -> None:
        typed = None if error is None else self._translate(error)
        doomed: list[_Task] = []
        with self._lock:
            lane.used_s += self._clock() - task.started
            if task in lane.running:
                lane.running.remove(task)
            if isinstance(typed, ResourceLimitExceeded):
                lane.breaches.append(typed.limit)
                if lane.quarantined(self.quarantine_after):
                    doomed = list(lane.pending)
                    lane.pending.clear()
            ready = self._take()
        if not task.outer.done():  # (a cancelled task's outer future is done already)
            if typed is None:
                task.outer.set_result(value)
            else:
                task.outer.set_exception(typed)
        for waiting in doomed:
            if not waiting.outer.done():
                waiting.outer.set_exception(_quarantined(lane))
        self._start(ready)


def _cancel_inner(
    inner: concurrent.futures.Future[Any], outer: concurrent.futures.Future[Any]
) -> None:
    if outer.cancelled():
        inner.cancel()  # pebble ends the worker of a running task it cancels


def _quarantined(lane: _Lane) -> DocumentQuarantined:
    kinds = ", ".join(lane.breaches)
    return DocumentQuarantined(
        f"rendering this document breached the sandbox's limits {len(lane.breaches)} times "
        f"({kinds}); its other pages are not rendered",
        breaches=len(lane.breaches),
    )


__all__ = ["QUARANTINE_AFTER", "LaneFuture", "Lanes"]
