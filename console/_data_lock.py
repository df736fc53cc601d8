"""One console per data folder: an exclusive lock held for the console's whole life.

Two consoles on one folder would share the local OCR server's pid record, and the second
would "take over" (and, on stopping, stop) the server the first one still uses, failing the
first one's jobs. The lock is `flock` on `console.lock` in the data folder: the kernel lets it
go when its holder dies, even by SIGKILL, so "the owner is gone" needs no guessing from pids
or heartbeats. The file also says who holds it (pid, address, when), for the refusal message
and for the CLIs looking for the running console.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from console.settings import CONSOLE_PID

LOCK_NAME = "console.lock"
# Set in the worker's and the UI's environment by `python -m console`: the pid of the console
# that holds the data folder for them (a worker started alone takes the folder itself).
SUPERVISOR_ENV = CONSOLE_PID.name


@dataclass(frozen=True)
class ConsoleHolder:
    """What the running console wrote into its lock file."""

    pid: int
    url: str
    service_url: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid}, {self.url or 'no UI address'}, started {self.started_at}"


class ConsoleAlreadyRunning(RuntimeError):
    def __init__(self, data_dir: Path, holder: ConsoleHolder | None) -> None:
        self.data_dir = data_dir
        self.holder = holder
        who = f"({holder.describe()})" if holder else "(its details are unreadable)"
        super().__init__(
            f"another console {who} is running on the data folder {data_dir}; it owns that "
            "folder's store and local OCR server. Stop it first, or give this console a folder "
            "of its own (LIGHTONOCR_DATA_DIR) and a port of its own (LIGHTONOCR_LOCAL_PORT)."
        )


def _read(handle: IO[str]) -> ConsoleHolder | None:
    handle.seek(0)
    with contextlib.suppress(ValueError, TypeError):
        record: dict[str, Any] = json.loads(handle.read() or "null")
        return ConsoleHolder(**record)
    return None


class DataFolderLock:
    """Held from `acquire` until `release` (or the holder's death)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._handle: IO[str] | None = None

    def acquire(self, *, url: str, service_url: str) -> None:
        """Take the folder or raise ConsoleAlreadyRunning naming the live holder."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            handle.close()
            raise ConsoleAlreadyRunning(self.data_dir, holder) from None
        holder = ConsoleHolder(os.getpid(), url, service_url, datetime.now(UTC).isoformat())
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(asdict(holder)))
        handle.flush()
        self._handle = handle

    def fileno(self) -> int:
        """The lock's descriptor, for children that keep the folder held while they live."""
        if self._handle is None:
            raise RuntimeError("the data folder lock is not held")
        return self._handle.fileno()

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.truncate(0)
            self._handle.close()  # closing the last descriptor lets the lock go
            self._handle = None


def running_console(data_dir: Path) -> ConsoleHolder | None:
    """The live console holding `data_dir`, or None (nobody holds it; nothing is created)."""
    path = Path(data_dir) / LOCK_NAME
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(handle)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None
