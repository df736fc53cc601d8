"""A circuit breaker, so a dead service costs one timeout per cool-down instead of one per page.

CLOSED counts consecutive failed requests (after their retries); at the threshold it OPENs
and every call fails fast with CircuitOpenError. After the cool-down one probe is let through
(HALF_OPEN): success closes the circuit, failure opens it for another cool-down.

Only service failures count (unavailable, timeouts, overload, 5xx, protocol garbage, and a
404 that says the URL or model is wrong); a 400 on one bad page or a 401 says the service is
up and reading requests. State is read from other threads (the
console shares one client per process), hence the lock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from ._exceptions import (
    AuthError,
    BadRequest,
    CircuitOpenError,
    OCRError,
    ServiceError,
)
from ._models import BreakerSnapshot, BreakerState


def counts_as_failure(exc: BaseException) -> bool:
    """Does this error say the service is unhealthy (rather than this request being bad)?"""
    if isinstance(exc, BadRequest | AuthError | CircuitOpenError):
        return False
    return isinstance(exc, ServiceError)


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._last_error: str | None = None

    def _retry_in(self) -> float:
        return max(0.0, self._opened_at + self.cooldown_s - self._clock())

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a request may go out now.

        In HALF_OPEN exactly one caller (the probe) is let through until it reports back.
        """
        with self._lock:
            if self._state is BreakerState.OPEN:
                retry_in = self._retry_in()
                if retry_in > 0:
                    raise self._open_error(retry_in)
                self._state = BreakerState.HALF_OPEN
                self._probe_in_flight = False
            if self._state is BreakerState.HALF_OPEN:
                if self._probe_in_flight:
                    raise self._open_error(0.0, probing=True)
                self._probe_in_flight = True

    def probing(self) -> bool:
        """Is the one half-open probe out? Callers may wait for its verdict instead of failing."""
        with self._lock:
            return self._state is BreakerState.HALF_OPEN and self._probe_in_flight

    def _open_error(self, retry_in: float, *, probing: bool = False) -> CircuitOpenError:
        why = "a probe request is testing the service" if probing else "service failing"
        detail = f"; last error: {self._last_error}" if self._last_error else ""
        return CircuitOpenError(
            f"circuit open ({why}, {self._failures} consecutive failures), "
            f"retry in {retry_in:.1f} s{detail}",
            retry_in_s=retry_in,
        )

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._probe_in_flight = False

    def record_failure(self, exc: BaseException) -> None:
        """Count `exc` if it is a service failure; anything else proves the service answered."""
        if not counts_as_failure(exc):
            if isinstance(exc, CircuitOpenError):
                return
            self.record_success()
            return
        with self._lock:
            self._failures += 1
            self._last_error = str(exc.message if isinstance(exc, OCRError) else exc)
            self._probe_in_flight = False
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()

    def abandon(self) -> None:
        """The call gave up without a verdict (cancelled): let the next caller probe."""
        with self._lock:
            self._probe_in_flight = False

    def reset(self) -> None:
        """Close the circuit, e.g. after a warm-up proved the model answers."""
        self.record_success()

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self._state
            retry_in = 0.0
            if state is BreakerState.OPEN:
                retry_in = self._retry_in()
                if retry_in == 0.0:
                    # Cool-down over: the next call will be the probe.
                    state = BreakerState.HALF_OPEN
            return BreakerSnapshot(
                state=state,
                consecutive_failures=self._failures,
                retry_in_s=retry_in,
                last_error=self._last_error,
            )

    def __repr__(self) -> str:
        snap = self.snapshot()
        return f"CircuitBreaker(state={snap.state.value}, failures={snap.consecutive_failures})"


# How often a caller held behind the half-open probe looks for its verdict.
PROBE_POLL_S = 0.05


async def admit(breaker: CircuitBreaker, *, deadline_s: float) -> None:
    """Pass the breaker. While its one half-open probe is out, wait for the verdict (up to
    `deadline_s`) rather than fail at once: a batch that arrives as the cool-down ends would
    otherwise lose every page but the probe. Polls, because one breaker serves several
    threads and event loops."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            breaker.before_call()
            return
        except CircuitOpenError:
            if not breaker.probing() or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(PROBE_POLL_S)
