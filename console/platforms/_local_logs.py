"""The local server's log: JSON lines in `data_dir/server.log`, read back as `LogEntry`s.

The server writes one JSON object per line on stderr; a line that is not JSON (a traceback,
a print, an argparse error) belongs to the entry before it. The Logs page reads the end of
the file (and the rotated file before it); a live tail follows the file from an offset.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.platforms._base import SEVERITIES, LogEntry, LogQuery, LogTail, severity_rank

SOURCE = "local"
LOG_NAME = "server.log"
# How much of the end of the log (and of the rotated one) a read of recent entries looks at.
RECENT_BUDGET_BYTES = 4 << 20
_SEVERITY_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "CRIT": "CRITICAL", "ERR": "ERROR"}


def _severity(value: object) -> str:
    name = str(value).upper()
    name = _SEVERITY_ALIASES.get(name, name)
    return name if name in SEVERITIES else "DEFAULT"


def _parse_json_line(line: str) -> LogEntry | None:
    """The entry in one of the server's JSON log lines, or None for any other line."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
        timestamp = datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(record, dict):
        return None
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    message = str(record.get("message", ""))
    if record.get("exception"):
        message = f"{message}\n{record['exception']}"
    return LogEntry(timestamp.astimezone(UTC), _severity(record.get("severity")), message, SOURCE)


def parse_log_lines(lines: Sequence[str], *, fallback_time: datetime) -> list[LogEntry]:
    """Entries in file order. A line that is not JSON (a traceback, a print) continues the
    entry before it; with none before it, it becomes a DEFAULT entry at `fallback_time`."""
    entries: list[LogEntry] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        entry = _parse_json_line(line)
        if entry is not None:
            entries.append(entry)
        elif entries:
            last = entries[-1]
            entries[-1] = LogEntry(last.timestamp, last.severity, f"{last.message}\n{line}", SOURCE)
        else:
            entries.append(LogEntry(fallback_time, "DEFAULT", line, SOURCE))
    return entries


def matches(entry: LogEntry, query: LogQuery) -> bool:
    minimum = query.min_severity and _severity(query.min_severity)
    return replace(query, min_severity=minimum or None).admits(entry)


def read_tail(path: Path, max_bytes: int) -> list[str]:
    """The last complete lines within `max_bytes` of the end of `path` (none if missing)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, io.SEEK_END)
            start = max(0, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if start > 0 and lines else lines


def line_start(path: Path, offset: int) -> int:
    """The offset of the first whole line at or after `offset`."""
    if offset <= 0:
        return 0
    with path.open("rb") as handle:
        handle.seek(offset - 1)
        handle.readline()  # the rest of the line `offset` falls in (nothing if it starts one)
        return handle.tell()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return datetime.now(UTC)


def recent_entries(log_path: Path, query: LogQuery) -> list[LogEntry]:
    """Newest first, from the end of the log (and the rotated one before it)."""
    lines = read_tail(log_path, RECENT_BUDGET_BYTES)
    rotated = log_path.with_name(log_path.name + ".1")
    used = sum(len(line) + 1 for line in lines)
    if used < RECENT_BUDGET_BYTES and rotated.exists():
        lines = read_tail(rotated, RECENT_BUDGET_BYTES - used) + lines
    entries = parse_log_lines(lines, fallback_time=_mtime(log_path))
    found: list[LogEntry] = []
    for entry in reversed(entries):
        if matches(entry, query):
            found.append(entry)
            if len(found) >= query.limit:
                break
    return found


def exit_reason(log_path: Path, started_at: datetime) -> str:
    """Why a server started at `started_at` ended, from its output: its last ERROR entry,
    else its last line (an argparse error or a traceback's final line)."""
    lines = read_tail(log_path, 64 << 10)
    entries = [
        entry
        for entry in parse_log_lines(lines, fallback_time=_mtime(log_path))
        if entry.timestamp >= started_at - timedelta(seconds=1)
    ]
    for entry in reversed(entries):
        if severity_rank(entry.severity) >= severity_rank("ERROR"):
            first, *rest = entry.message.splitlines() or [""]
            return f"{first} ({rest[-1].strip()})" if rest else first
    output = [line for entry in entries for line in entry.message.splitlines()]
    return output[-1].strip() if output else ""


def append_note(log_path: Path, message: str, severity: str = "INFO") -> None:
    """A console line in the server log, in the server's own format."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {"time": stamp, "severity": severity, "logger": "console", "message": message}
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


class LocalLogTail(LogTail):
    """Follows the server log from an offset; each drain reads only what was appended.

    Memory stays bounded: a drain reads at most `max_read_bytes` (after a burst it skips to
    the newest part) and returns at most `max_entries`. A file that shrank was rotated or
    truncated, so reading starts again from its beginning.
    """

    def __init__(
        self,
        path: Path,
        query: LogQuery,
        *,
        offset: int,
        max_read_bytes: int = 1 << 20,
        max_entries: int = 1000,
    ) -> None:
        self.path = path
        self.query = query
        self._offset = offset
        self._pending = b""
        self._max_read = max_read_bytes
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def drain(self) -> list[LogEntry]:
        with self._lock:
            if self._closed:
                return []
            try:
                with self.path.open("rb") as handle:
                    size = handle.seek(0, io.SEEK_END)
                    if size < self._offset:
                        self._offset, self._pending = 0, b""
                    skip_partial = False
                    if size - self._offset > self._max_read:
                        self._offset, self._pending = size - self._max_read, b""
                        skip_partial = True
                    handle.seek(self._offset)
                    chunk = handle.read(size - self._offset)
            except FileNotFoundError:
                return []
            self._offset += len(chunk)
            data = self._pending + chunk
            complete, _, self._pending = data.rpartition(b"\n")
            lines = complete.decode("utf-8", errors="replace").splitlines() if complete else []
            if skip_partial and lines:
                lines = lines[1:]
            entries = parse_log_lines(lines, fallback_time=datetime.now(UTC))
            return [entry for entry in entries if matches(entry, self.query)][-self._max_entries :]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pending = b""


def follow(log_path: Path, query: LogQuery) -> LocalLogTail:
    """A tail from now on; with `query.since`, also recent lines after that time."""
    size = file_size(log_path)
    offset = size if query.since is None else line_start(log_path, size - (256 << 10))
    return LocalLogTail(log_path, query, offset=offset)
