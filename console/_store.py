"""The console's memory: metric samples, the audit log, warm-up history and a few settings.

Charts, the audit trail, the local instance floor and OCR jobs (`console.jobs`) survive a
console restart because they live here. The tables are SQLAlchemy Core, so nothing above
this module speaks a database dialect: SQLite in the data folder is the default, and a team
deployment can hand `Store` a PostgreSQL URL instead. Streamlit runs each session's script
in its own thread and the job runner writes from its own, so the engine's pool gives each
thread a connection; SQLite runs in WAL mode so a second process (the `console.jobs` CLI, a
test reopening the folder) can read while the console writes.

Where it lives: `LIGHTONOCR_DATA_DIR` (default `.lightonocr` in the current directory), file
`console.sqlite3`. The local platform keeps its server log in the same folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from console._objects import FolderObjects, ObjectStore, objects_from_env
from console.migrations import upgrade
from console.settings import DATA_DIR, ConsoleSettings
from ocr_core import OCRError

DATA_DIR_ENV = DATA_DIR.name
DB_NAME = "console.sqlite3"
# Charts offer windows up to 7 days; a day more keeps the 7 d window full.
DEFAULT_RETENTION = timedelta(days=8)

# Every table of the store, the job tables (console.jobs) included: one Alembic history
# (console/migrations) creates and changes them all.
METADATA = sa.MetaData()

samples_table = sa.Table(
    "samples",
    METADATA,
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Index("samples_by_time", "platform", "ts"),
)
audit_table = sa.Table(
    "audit",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)
# One column per WarmUpRecord field (`at` stored as `ts`): a new field is one Column here
# and one migration (`python -m console.migrations revision -m ...`).
warm_ups_table = sa.Table(
    "warm_ups",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("ready", sa.Boolean, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("cold", sa.Boolean, nullable=False, server_default=sa.false()),
)
settings_table = sa.Table(
    "settings",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


class StoreError(OCRError):
    """The store cannot be read or written (disk full, read-only, locked, unreachable)."""


def data_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    return ConsoleSettings.from_env(env).data_folder


def to_ts(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.timestamp()


def from_ts(ts: float) -> datetime:
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a generous busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a connection the database dropped (a restart, a failover) is replaced
    # before use, so the console carries on once it is back. A short connect timeout makes an
    # unreachable database an error page in seconds rather than a page that hangs.
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class Store:
    """The console's tables behind plain methods; every method is one short transaction.

    `path` is a SQLite file (its folder is created); `url` any SQLAlchemy URL instead.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        url: str | None = None,
        retention: timedelta = DEFAULT_RETENTION,
        objects: ObjectStore | None = None,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("give the store a path or a url")
        if path is not None:
            self.path: Path | None = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.path}"
        else:
            self.path = None
        assert url is not None
        self.url = url
        # Documents' bytes (see console/_objects.py): beside the SQLite file by default.
        self.objects = objects or (
            FolderObjects(self.path.parent / "objects")
            if self.path is not None
            else objects_from_env(data_dir_from_env())
        )
        self.retention = retention
        self.engine = make_engine(url)
        with self.writing("bring up to date"):
            upgrade(self.engine)

    @classmethod
    def in_dir(cls, data_dir: Path, objects: ObjectStore | None = None) -> Store:
        return cls(Path(data_dir) / DB_NAME, objects=objects)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Store:
        """LIGHTONOCR_DATABASE_URL (any SQLAlchemy URL, e.g. PostgreSQL for a team
        deployment: `postgresql+psycopg://user@host/db`), else SQLite in the data dir."""
        settings = ConsoleSettings.from_env(env)
        objects = objects_from_env(settings.data_folder, env)
        if url := settings.database_url:
            return cls(url=url, objects=objects)
        return cls.in_dir(settings.data_folder, objects)

    @property
    def where(self) -> str:
        """Where the data is, for messages (never the URL's password)."""
        if self.path is not None:
            return str(self.path)
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.where!r})"

    @contextmanager
    def writing(self, action: str = "write to") -> Iterator[None]:
        """Turn a database failure into a StoreError that says where and why."""
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.DataError) as error:
            # The driver's own words, first line only: SQLAlchemy's add the statement and
            # its parameters (a document's name, a password being handed over).
            reason = str(error.orig) if error.orig is not None else type(error).__name__
            reason = reason.strip().splitlines()[0] if reason.strip() else type(error).__name__
            message = f"cannot {action} the console's store at {self.where}: {reason}"
            raise StoreError(message) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.writing(), self.engine.begin() as connection:
            yield connection

    def read(self, statement: sa.Executable) -> list[sa.Row[Any]]:
        with self.writing("read"), self.engine.connect() as connection:
            return list(connection.execute(statement))

    # --- metric samples ------------------------------------------------------------------------

    def add_samples(self, platform: str, samples: Iterable[Sample]) -> None:
        rows = [
            {
                "platform": platform,
                "key": s.key,
                "label": s.label,
                "ts": to_ts(s.at),
                "value": float(s.value),
            }
            for s in samples
        ]
        if rows:
            with self.transaction() as connection:
                connection.execute(samples_table.insert(), rows)

    def samples(self, platform: str, since: datetime) -> list[Sample]:
        """Samples of `platform` at or after `since`, oldest first."""
        t = samples_table
        rows = self.read(
            sa.select(t.c.key, t.c.label, t.c.ts, t.c.value)
            .where(t.c.platform == platform, t.c.ts >= to_ts(since))
            .order_by(t.c.ts)
        )
        return [Sample(key, label, from_ts(ts), value) for key, label, ts, value in rows]

    def prune(self, now: datetime | None = None) -> int:
        """Drop samples older than the retention; returns how many went."""
        cutoff = to_ts(now or datetime.now(UTC)) - self.retention.total_seconds()
        with self.transaction() as connection:
            result = connection.execute(samples_table.delete().where(samples_table.c.ts < cutoff))
            return result.rowcount

    # --- audit log -----------------------------------------------------------------------------

    def add_audit(self, record: AuditRecord) -> None:
        row = asdict(record)
        row["ts"] = to_ts(row.pop("at"))
        with self.transaction() as connection:
            connection.execute(audit_table.insert(), row)

    def audit(self, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        t = audit_table
        names = [f.name for f in fields(AuditRecord) if f.name != "at"]
        rows = self.read(
            sa.select(t.c.ts, *(t.c[n] for n in names))
            .order_by(t.c.ts.desc(), t.c.id.desc())
            .limit(limit)
        )
        return [AuditRecord(from_ts(ts), *rest) for ts, *rest in rows]

    # --- warm-up history -----------------------------------------------------------------------

    def add_warm_up(self, record: WarmUpRecord) -> None:
        row = asdict(record)
        row["ts"] = to_ts(row.pop("at"))
        with self.transaction() as connection:
            connection.execute(warm_ups_table.insert(), row)

    def warm_ups(
        self, *, platform: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[WarmUpRecord]:
        """Newest first, optionally for one platform and from a time on."""
        t = warm_ups_table
        names = [f.name for f in fields(WarmUpRecord) if f.name != "at"]
        query = sa.select(t.c.ts, *(t.c[n] for n in names)).where(
            t.c.ts >= (to_ts(since) if since else 0.0)
        )
        if platform is not None:
            query = query.where(t.c.platform == platform)
        rows = self.read(query.order_by(t.c.ts.desc(), t.c.id.desc()).limit(limit))
        return [
            WarmUpRecord(from_ts(row[0]), **dict(zip(names, row[1:], strict=True))) for row in rows
        ]

    # --- settings ------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A JSON value saved with `set_setting`, or `default`."""
        t = settings_table
        rows = self.read(sa.select(t.c.value).where(t.c.key == key))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        t = settings_table
        with self.transaction() as connection:
            updated = connection.execute(
                t.update().where(t.c.key == key).values(value=json.dumps(value))
            )
            if not updated.rowcount:
                connection.execute(t.insert(), {"key": key, "value": json.dumps(value)})

    def settings_under(self, prefix: str) -> dict[str, Any]:
        """Every setting whose key starts with `prefix`, by key."""
        t = settings_table
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.read(sa.select(t.c.key, t.c.value).where(t.c.key.like(like, escape="\\")))
        return {key: json.loads(value) for key, value in rows}

    def delete_setting(self, key: str) -> None:
        with self.transaction() as connection:
            connection.execute(settings_table.delete().where(settings_table.c.key == key))

    def close(self) -> None:
        self.engine.dispose()
