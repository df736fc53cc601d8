"""The retry policy: what is transient (cold starts, overload) and how long to wait.

A scale-to-zero GPU service answers 503 or drops connections for the minutes it takes to
start; those are worth waiting for. A 400 on one bad page is not, and neither is a 401 that a
fresh token did not cure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential

from ._config import ClientSettings
from ._exceptions import ServiceError

Sleep = Callable[[float], Awaitable[None]]


def is_retryable(exc: BaseException) -> bool:
    """Connect errors, timeouts, 429, 502/503/504 and malformed answers (see the error types)."""
    return isinstance(exc, ServiceError) and exc.retryable


class wait_retry_after_or_exponential(wait_base):
    """Exponential backoff, unless the server said how long to wait (Retry-After).

    The server's figure is honoured up to `maximum`, so a hostile or misconfigured header
    cannot park a page for an hour.
    """

    def __init__(self, minimum: float, maximum: float) -> None:
        self.maximum = maximum
        self.exponential = wait_exponential(multiplier=minimum, min=minimum, max=maximum)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:
            return min(float(retry_after), self.maximum)
        return self.exponential(retry_state)


def retrying(settings: ClientSettings, sleep: Sleep | None = None) -> AsyncRetrying:
    """A fresh tenacity controller for one logical request (re-raises the last typed error)."""
    return AsyncRetrying(
        stop=stop_after_attempt(max(1, settings.max_attempts)),
        wait=wait_retry_after_or_exponential(settings.backoff_min_s, settings.backoff_max_s),
        retry=retry_if_exception(is_retryable),
        sleep=sleep or asyncio.sleep,
        reraise=True,
    )
