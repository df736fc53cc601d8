"""Which console a shell's command reaches: the running console's store and service.

A running console's worker writes a small record in a per-user place
(`$XDG_STATE_HOME/lightonocr/consoles/PID.json`, by default under `~/.local/state`) naming
its data folder and the variables that chose its OCR service; it removes it when it stops.
The CLIs (`python -m console.jobs`, `python -m console.golden`) read it, so a shell without
the console's variables, in any directory, reaches the same store and the same service as
the console (issue 35, item 4). They never create a store on their own: with no running
console and no store named, they refuse and say what they looked for.

Only names of places are written (no token, no password: a database URL is recorded with
its password hidden, and a shell must give the URL itself).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa

from console._store import DATA_DIR_ENV, DB_NAME
from console.settings import (
    DATABASE_URL,
    DEFAULT_DATA_DIR,
    SERVICE_VARIABLES,
    ConsoleSettings,
)

DATABASE_URL_ENV = DATABASE_URL.name


class NoConsoleStore(RuntimeError):
    """The command cannot tell which store to use (or it does not exist): says why."""


@dataclass(frozen=True, slots=True)
class RunningConsole:
    """What a running console's worker writes about itself."""

    pid: int
    started_at: float
    # The store: the absolute data folder, or the database URL with its password hidden.
    data_dir: str
    database: str | None
    service_url: str
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> str:
        return self.database or str(Path(self.data_dir) / DB_NAME)


@dataclass(frozen=True, slots=True)
class StoreChoice:
    """The environment a CLI builds its store and service from, and why that one."""

    env: dict[str, str]
    store: str
    why: str
    service: str | None = None

    def describe(self) -> str:
        text = f"store: {self.store} ({self.why})"
        if self.service:
            text += f"\nservice: {self.service}"
        return text


def records_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/state")
    return Path(state) / "lightonocr" / "consoles"


def announce(
    service_url: str, env: Mapping[str, str] | None = None, *, pid: int | None = None
) -> Path:
    """Write this process's record (the worker calls it once its store is open); returns its
    path for `withdraw`. Written whole then renamed, so a reader never sees half of it."""
    env = os.environ if env is None else env
    pid = os.getpid() if pid is None else pid
    settings = ConsoleSettings.from_env(env)
    database = settings.database_url
    record = RunningConsole(
        pid=pid,
        started_at=time.time(),
        data_dir=str(settings.data_folder.resolve()),
        database=sa.make_url(database).render_as_string(hide_password=True) if database else None,
        service_url=service_url,
        variables={name: env[name] for name in SERVICE_VARIABLES if env.get(name)},
    )
    folder = records_dir(env)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{pid}.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(record)), encoding="utf-8")
    partial.replace(path)
    return path


def withdraw(path: Path) -> None:
    path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """The process is there and is a console (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"console" in cmdline


def running_consoles(env: Mapping[str, str] | None = None) -> list[RunningConsole]:
    """The live consoles of this user, oldest first (records of dead ones are skipped)."""
    found = []
    for path in sorted(records_dir(env).glob("*.json")):
        try:
            record = RunningConsole(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if _alive(record.pid):
            found.append(record)
    return sorted(found, key=lambda r: r.started_at)


def choose_store(env: Mapping[str, str] | None = None, *, creates: bool = False) -> StoreChoice:
    """The store (and service) a CLI command should use, or NoConsoleStore saying why not.

    `creates`: the command writes (submit, register): it may create the store a variable
    names. A read-only command never creates one: a store that is not there is an error.
    """
    env = dict(os.environ if env is None else env)
    consoles = running_consoles(env)
    where = records_dir(env)
    settings = ConsoleSettings.from_env(env)
    if settings.database_url:
        url = sa.make_url(settings.database_url).render_as_string(hide_password=True)
        same = [c for c in consoles if c.database == url]
        return _with_service(env, same, url, f"{DATABASE_URL_ENV} is set")
    if settings.data_dir is not None:
        data_dir = settings.data_dir.resolve()
        store = data_dir / DB_NAME
        if not creates and not store.exists():
            raise NoConsoleStore(
                f"there is no console store at {store} ({DATA_DIR_ENV} is set); nothing was "
                "created: start the console with that folder, or point the variable at its store"
            )
        same = [c for c in consoles if c.database is None and Path(c.data_dir) == data_dir]
        return _with_service(env, same, str(store), f"{DATA_DIR_ENV} is set")
    stores = {c.store for c in consoles}
    if len(stores) > 1:
        listed = "; ".join(f"pid {c.pid}: {c.store}" for c in consoles)
        raise NoConsoleStore(
            f"{len(consoles)} consoles are running on different stores ({listed}): set "
            f"{DATA_DIR_ENV} (or {DATABASE_URL_ENV}) to choose one"
        )
    if consoles:
        console = consoles[-1]
        if console.database is not None:
            raise NoConsoleStore(
                f"the running console (pid {console.pid}) keeps its store in {console.database}: "
                f"set {DATABASE_URL_ENV} to reach it (its password is not written down anywhere)"
            )
        chosen = {**env, DATA_DIR_ENV: console.data_dir}
        return _with_service(
            chosen, consoles, console.store, f"the running console's, pid {console.pid}"
        )
    default = (Path.cwd() / DEFAULT_DATA_DIR).resolve()
    if (default / DB_NAME).exists():
        return StoreChoice(
            {**env, DATA_DIR_ENV: str(default)},
            str(default / DB_NAME),
            f"no running console found in {where}: the default {DEFAULT_DATA_DIR} folder in "
            "the current directory",
        )
    raise NoConsoleStore(
        f"no running console found (looked in {where}) and no console store in "
        f"{default}; nothing was created: start the console (`python -m console`), or set "
        f"{DATA_DIR_ENV} (or {DATABASE_URL_ENV}) to its store"
    )


def _with_service(
    env: dict[str, str], consoles: list[RunningConsole], store: str, why: str
) -> StoreChoice:
    """The running console's service on the same store, unless the shell chose one itself."""
    if not consoles:
        return StoreChoice(env, store, why)
    console = consoles[-1]
    settings = ConsoleSettings.from_env(env)
    if settings.base_url or settings.local_port is not None:
        return StoreChoice(env, store, why)
    chosen = {**env, **console.variables}
    return StoreChoice(chosen, store, why, f"{console.service_url} (the running console's)")
