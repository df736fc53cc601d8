"""The console's own failures as log lines, beside the server's on the Logs page.

A page that timed out, was refused at the connection or was stopped by the open breaker
never reached the server, so the server's log has nothing of it (and a timeout the client
gave up on is an INFO line there at most). The job store has every page the console sent
and how it ended: its failed pages become entries here, ERROR for the service's failures
and WARNING for bad input, each naming the job, the page and its request id (so the
workbench's "?request_id=" link finds the console's line too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from console._store import Store, from_ts, to_ts
from console.jobs._tables import documents_table, jobs_table, pages_table
from console.metrics._console_failures import SERVICE_ERRORS
from console.platforms._base import LogEntry, LogQuery, LogTail

SOURCE = "console"
# Failed pages read per query, newest first, before the text filter applies.
_READ_LIMIT = 2000


def console_log(store: Store, service_url: str, query: LogQuery) -> list[LogEntry]:
    """The console's failed pages for this service that pass `query`, newest first."""
    p, d, j = pages_table, documents_table, jobs_table
    columns = (p.c.finished_at, p.c.error_type, p.c.error, p.c.page_index, p.c.attempts)
    statement = (
        sa.select(*columns, p.c.request_id, p.c.job_id, d.c.filename)
        .join(j, j.c.id == p.c.job_id)
        .join(d, d.c.id == p.c.document_id)
        .where(j.c.service_url == service_url, p.c.error.is_not(None))
        .order_by(p.c.finished_at.desc())
        .limit(_READ_LIMIT)
    )
    if query.since is not None:
        statement = statement.where(p.c.finished_at > to_ts(query.since))
    entries = [_entry(*row) for row in store.read(statement)]
    return [entry for entry in entries if query.admits(entry)][: query.limit]


def _entry(
    finished_at: float,
    kind: str | None,
    error: str,
    page_index: int,
    attempts: int,
    request_id: str | None,
    job_id: int,
    filename: str,
) -> LogEntry:
    severity = "ERROR" if kind in SERVICE_ERRORS else "WARNING"
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    request = f"; request {request_id}" if request_id else ""
    message = (
        f"console: job {job_id}, {filename} page {page_index + 1} failed after {tries}: "
        f"{kind or 'error'}: {error}{request}"
    )
    return LogEntry(from_ts(finished_at), severity, message, SOURCE)


def merged(server: list[LogEntry], console: list[LogEntry], limit: int) -> list[LogEntry]:
    """Both sources newest first, at most `limit`."""
    both = sorted([*server, *console], key=lambda entry: entry.timestamp, reverse=True)
    return both[:limit]


class MergedTail(LogTail):
    """The server's live tail with the console's failures since the last drain mixed in."""

    def __init__(
        self, server: LogTail, console: Callable[[LogQuery], list[LogEntry]], query: LogQuery
    ) -> None:
        self._server = server
        self._console = console
        self._query = query
        self._since: datetime | None = query.since
        self._lock = threading.Lock()

    def drain(self) -> list[LogEntry]:
        with self._lock:
            since = LogQuery(self._query.min_severity, self._query.text, self._since, _READ_LIMIT)
            console = self._console(since)
            if console:
                self._since = console[0].timestamp
        entries = [*self._server.drain(), *reversed(console)]
        return sorted(entries, key=lambda entry: entry.timestamp)

    def close(self) -> None:
        self._server.close()
