"""A problem that recurs on every tick of a loop is said once when it starts and once when it
ends, not every few seconds: during a database outage the keep-warm timer and the worker's
beat would otherwise write a traceback every 2 s, burying what else happened."""

from __future__ import annotations

import logging

from console._store import StoreError


class RecurringProblem:
    """The state of one loop's recurring failure, for its logger."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._logger = logger
        self._what = what
        self._current: str | None = None

    def failed(self, error: BaseException) -> None:
        """Log the failure if it is new (another message than the last one)."""
        message = f"{type(error).__name__}: {error}"
        if message == self._current:
            return
        self._current = message
        # The store's errors say where and why already; anything else is a bug: its trace.
        trace = not isinstance(error, StoreError)
        self._logger.warning(
            "%s failed (said once until it works again)",
            self._what,
            extra={"error": message},
            exc_info=error if trace else None,
        )

    def succeeded(self) -> None:
        if self._current is not None:
            self._current = None
            self._logger.info("%s works again", self._what)
