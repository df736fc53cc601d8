"""The console's memory: metric samples, the audit log, warm-up history and a few settings.

One SQLite file so that charts, the audit trail and the local instance floor survive a
console restart. Streamlit runs each session's script in its own thread, so the store is
shared between threads: one connection guarded by a lock, in WAL mode so a second console
process (or a test reopening the folder) can read while this one writes.

Where it lives: `LIGHTONOCR_DATA_DIR` (default `.lightonocr` in the current directory), file
`console.sqlite3`. The local platform keeps its server log in the same folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "LIGHTONOCR_DATA_DIR"
DEFAULT_DATA_DIR = Path(".lightonocr")
DB_NAME = "console.sqlite3"
# Charts offer windows up to 7 days; a day more keeps the 7 d window full.
DEFAULT_RETENTION = timedelta(days=8)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    platform TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL,
    ts REAL NOT NULL, value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (platform, ts);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, actor TEXT NOT NULL,
    platform TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    ok INTEGER NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS warm_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, platform TEXT NOT NULL,
    ready INTEGER NOT NULL, seconds REAL NOT NULL, attempts INTEGER NOT NULL, error TEXT,
    cold INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def data_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def _ts(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.timestamp()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured value of one chart line."""

    key: str
    label: str
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class WarmUpRecord:
    at: datetime
    platform: str
    ready: bool
    seconds: float
    attempts: int
    error: str | None
    # The service had to start: `seconds` is a cold start (else an answer time, or a failure).
    cold: bool = False


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    actor: str
    platform: str
    action: str
    target: str
    ok: bool
    detail: str


class Store:
    """Thread-safe SQLite store; every method is one short transaction."""

    def __init__(self, path: Path, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retention = retention
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(warm_ups)")}
            if "cold" not in columns:  # a store from before warm-ups said whether they were cold
                self._db.execute("ALTER TABLE warm_ups ADD COLUMN cold INTEGER NOT NULL DEFAULT 0")

    @classmethod
    def in_dir(cls, data_dir: Path) -> Store:
        return cls(Path(data_dir) / DB_NAME)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Store:
        return cls.in_dir(data_dir_from_env(env))

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _write(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        with self._lock, self._db:
            self._db.executemany(sql, rows)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- metric samples ------------------------------------------------------------------------

    def add_samples(self, platform: str, samples: Iterable[Sample]) -> None:
        self._write(
            "INSERT INTO samples (platform, key, label, ts, value) VALUES (?, ?, ?, ?, ?)",
            [(platform, s.key, s.label, _ts(s.at), float(s.value)) for s in samples],
        )

    def samples(self, platform: str, since: datetime) -> list[Sample]:
        """Samples of `platform` at or after `since`, oldest first."""
        rows = self._read(
            "SELECT key, label, ts, value FROM samples WHERE platform = ? AND ts >= ? "
            "ORDER BY ts, rowid",
            (platform, _ts(since)),
        )
        return [Sample(key, label, _at(ts), value) for key, label, ts, value in rows]

    def prune(self, now: datetime | None = None) -> int:
        """Drop samples older than the retention; returns how many went."""
        cutoff = _ts(now or datetime.now(UTC)) - self.retention.total_seconds()
        with self._lock, self._db:
            return self._db.execute("DELETE FROM samples WHERE ts < ?", (cutoff,)).rowcount

    # --- audit log -----------------------------------------------------------------------------

    def add_audit(self, record: AuditRecord) -> None:
        self._write(
            "INSERT INTO audit (ts, actor, platform, action, target, ok, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    _ts(record.at),
                    record.actor,
                    record.platform,
                    record.action,
                    record.target,
                    int(record.ok),
                    record.detail,
                )
            ],
        )

    def audit(self, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        rows = self._read(
            "SELECT ts, actor, platform, action, target, ok, detail FROM audit "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditRecord(_at(ts), actor, platform, action, target, bool(ok), detail)
            for ts, actor, platform, action, target, ok, detail in rows
        ]

    # --- warm-up history -----------------------------------------------------------------------

    def add_warm_up(self, record: WarmUpRecord) -> None:
        self._write(
            "INSERT INTO warm_ups (ts, platform, ready, seconds, attempts, error, cold) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    _ts(record.at),
                    record.platform,
                    int(record.ready),
                    record.seconds,
                    record.attempts,
                    record.error,
                    int(record.cold),
                )
            ],
        )

    def warm_ups(
        self, *, platform: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[WarmUpRecord]:
        """Newest first, optionally for one platform and from a time on."""
        clauses, params = ["ts >= ?"], [_ts(since) if since else 0.0]
        if platform is not None:
            clauses.append("platform = ?")
            params.append(platform)
        rows = self._read(
            "SELECT ts, platform, ready, seconds, attempts, error, cold FROM warm_ups "
            f"WHERE {' AND '.join(clauses)} ORDER BY ts DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            WarmUpRecord(_at(ts), platform_, bool(ready), seconds, attempts, error, bool(cold))
            for ts, platform_, ready, seconds, attempts, error, cold in rows
        ]

    # --- settings ------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A JSON value saved with `set_setting`, or `default`."""
        rows = self._read("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self._write(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(key, json.dumps(value))],
        )

    def delete_setting(self, key: str) -> None:
        self._write("DELETE FROM settings WHERE key = ?", [(key,)])

    def close(self) -> None:
        with self._lock:
            self._db.close()
