"""Admission, slots and the engine's thread pool: what keeps the server's load bounded.

A chat request's body is read first, its bytes counted against one budget shared by every
request in memory (many large bodies cannot add up; past it, 429 without reading on). Only a
whole request takes a place in the queue: a client trickling its body holds no place, so
slow senders cannot fill the queue and turn away everyone else (they are cut off at the
body deadline). At most `max_num_seqs` run at once (the slots) and `max_waiting` more may
wait; beyond that the server answers 429 with Retry-After. A request whose client goes away
is cancelled: if it was waiting it leaves the queue, if it was running its slot is freed at
once (the engine cannot be interrupted mid-page, so its thread finishes that page in the
background; the pool has spare threads for it, so new work does not wait behind abandoned
work).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ._errors import RequestError
from ._metrics import ServerMetrics

T = TypeVar("T")

# Request bodies held in memory at once, across all admitted requests.
BODY_BUDGET_BYTES = 256 * 1024 * 1024
# Retry-After bounds (seconds) for a full queue.
MIN_RETRY_AFTER_S, MAX_RETRY_AFTER_S = 1, 60
# Weight of the newest page in the running mean of service time.
SERVICE_TIME_WEIGHT = 0.2


class BodyClaim:
    """One request's share of the body budget; given back when the request ends."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self.reserved = 0

    def reserve(self, nbytes: int) -> None:
        """Count `nbytes` more of this request's body; 429 if the budget is spent."""
        scheduler = self._scheduler
        if scheduler.buffered + nbytes > scheduler.body_budget:
            refused = scheduler.busy("request bodies in memory")
            refused.headers["Connection"] = "close"  # the rest of the body is not read
            raise refused
        scheduler.buffered += nbytes
        self.reserved += nbytes


class Scheduler:
    """Slots, the waiting line and their gauges for one running app."""

    def __init__(
        self,
        metrics: ServerMetrics,
        max_num_seqs: int,
        max_waiting: int,
        body_budget: int = BODY_BUDGET_BYTES,
    ) -> None:
        self.metrics = metrics
        self.max_num_seqs = max_num_seqs
        self.max_admitted = max_num_seqs + max_waiting
        self.body_budget = body_budget
        # Twice the slots: a cancelled page's thread may still be finishing its page.
        self.executor = ThreadPoolExecutor(
            max_workers=2 * max_num_seqs, thread_name_prefix="ocr-engine"
        )
        self._slots = asyncio.Semaphore(max_num_seqs)
        self.admitted = 0
        self.buffered = 0
        self.running = 0
        self.waiting = 0
        self.service_s = 1.0  # running mean of seconds per page, for Retry-After

    def busy(self, what: str) -> RequestError:
        """The 429 for a full server, with how long to wait for a slot to come free."""
        retry_after = self.retry_after()
        return RequestError(
            f"the server is at capacity ({what}): {self.running} running, "
            f"{self.waiting} waiting; retry after {retry_after} s",
            status=429,
            kind="TooManyRequestsError",
            headers={"Retry-After": str(retry_after)},
        )

    def retry_after(self) -> int:
        waves = (self.waiting + 1) / self.max_num_seqs
        seconds = math.ceil(self.service_s * waves)
        return max(MIN_RETRY_AFTER_S, min(MAX_RETRY_AFTER_S, seconds))

    @contextlib.contextmanager
    def body(self) -> Iterator[BodyClaim]:
        """A claim on the body budget for one request, given back when it ends."""
        claim = BodyClaim(self)
        try:
            yield claim
        finally:
            self.buffered -= claim.reserved

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """A place in the queue for one whole request, or the 429 if every place is taken."""
        if self.admitted >= self.max_admitted:
            raise self.busy("queue full")
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    def _publish(self) -> None:
        self.metrics.set_load(self.running, self.waiting)

    async def run(self, work: Callable[[], T]) -> tuple[T, float]:
        """Wait for a slot, run `work` in the pool; the result and the seconds spent queued.

        Cancelling this coroutine (the client went away) gives the slot back at once.
        """
        queued_at = time.perf_counter()
        self.waiting += 1
        self._publish()
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
            self._publish()
        queue_s = time.perf_counter() - queued_at
        self.running += 1
        self._publish()
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, work)
        finally:
            self.running -= 1
            self._slots.release()
            self._publish()
        spent = time.perf_counter() - started
        self.service_s += SERVICE_TIME_WEIGHT * (spent - self.service_s)
        return result, queue_s

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
