"""The client's requests in flight, capped by its setting and by what the server says it runs.

More requests than the server runs at once only wait in its queue, where a client deadline
can throw away work the server was about to do; so when a server states its capacity the
client sends no more than that at once.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Capacity:
    """An async context manager like a semaphore whose limit can be lowered while in use."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._busy = 0
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    def lower_to(self, limit: int) -> None:
        """Hold at most `limit` at once from now on (requests already in flight finish)."""
        self._limit = max(1, min(self._limit, limit))

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._busy < self._limit)
            self._busy += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        async with self._changed:
            self._busy -= 1
            self._changed.notify()
