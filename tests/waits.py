"""Waiting in tests: for a condition, never for a fixed time.

A test that sleeps "long enough" is slow when the machine is idle and wrong when it is busy;
these helpers poll a condition until it holds and give up only at a generous deadline (a
shared 2-core machine under load is many times slower than an idle one). The deadline is a
limit on how long to wait, never an assertion about speed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEADLINE_S = 60.0


def wait_until(
    condition: Callable[[], object], timeout_s: float = DEADLINE_S, interval_s: float = 0.05
) -> bool:
    """Poll `condition` until it holds: True then, False if it never did within `timeout_s`
    (so a test says `assert wait_until(...)` and reads as its condition)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return bool(condition())


def eventually(
    condition: Callable[[], T],
    *,
    timeout_s: float = DEADLINE_S,
    interval_s: float = 0.02,
    what: str = "the condition",
) -> T:
    """Poll `condition` until it returns a truthy value and return that value; fail with
    `what` (and the last value seen) if it never does within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s (last: {value!r})")
        time.sleep(interval_s)


async def eventually_async(
    condition: Callable[[], T | Awaitable[T]],
    *,
    timeout_s: float = DEADLINE_S,
    interval_s: float = 0.02,
    what: str = "the condition",
) -> T:
    """`eventually` for a coroutine: the loop keeps running between polls. `condition` may be
    a plain function or return an awaitable."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s (last: {value!r})")
        await asyncio.sleep(interval_s)


def log_records(text: str) -> list[dict[str, Any]]:
    """The JSON log lines of a local OCR server (one object a line). A last line the server
    is still writing (no newline yet) is left for the next read."""
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def logged(
    read: Callable[[], str],
    match: Callable[[dict[str, Any]], bool],
    *,
    count: int = 1,
    timeout_s: float = DEADLINE_S,
) -> list[dict[str, Any]]:
    """The log records `match` selects, once there are at least `count` of them.

    The server writes some lines after it has answered (uvicorn's access line comes after the
    response is sent): a test waits for the line it expects instead of sleeping.
    """

    def found() -> list[dict[str, Any]]:
        records = [record for record in log_records(read()) if match(record)]
        return records if len(records) >= count else []

    return eventually(found, timeout_s=timeout_s, what=f"{count} matching log line(s)")
