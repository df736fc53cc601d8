"""Local copies of a bucket's objects, so a page view does not download a whole document.

A workbench page shows one page at a time, and every page of a new document needs its bytes:
without a copy, each page of a 50 MB document read the 50 MB from the bucket again. Objects
are never rewritten (keys are new UUIDs, created with `if_generation_match=0`), so a copy is
valid for as long as the object lives: no revalidation, only eviction. Copies are kept in a
private folder up to `max_bytes` (least recently read first out) and dropped with their
object. On Cloud Run the disk is memory: the cap counts toward the console's memory
(LIGHTONOCR_OBJECT_CACHE_MB, default 256).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from console.settings import DEFAULT_OBJECT_CACHE_MB, ConsoleSettings

DEFAULT_MAX_BYTES = DEFAULT_OBJECT_CACHE_MB << 20
_CHUNK = 1 << 20


class LocalCopies:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, folder: Path | None = None) -> None:
        self.max_bytes = max_bytes
        self.folder = folder or Path(tempfile.mkdtemp(prefix="lightonocr-objects-"))
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()
        if folder is None:  # ours: gone with this object or the process, never left behind
            weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalCopies:
        return cls(ConsoleSettings.from_env(env).object_cache_mb << 20)

    def _path(self, key: str) -> Path:
        return self.folder / hashlib.sha256(key.encode()).hexdigest()

    def read(self, key: str, fetch: Callable[[str], IO[bytes]]) -> bytes:
        """The object's bytes from its local copy, made from `fetch(key)` (a stream) once."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            data = path.read_bytes()
            os.utime(path)  # recently read: evicted last
            return data
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out, fetch(key) as source:
                shutil.copyfileobj(source, out, _CHUNK)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        data = path.read_bytes()
        self._evict()
        return data

    def drop(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _evict(self) -> None:
        with self._lock:
            copies = []
            for entry in self.folder.iterdir():
                if entry.name.startswith(".incoming-"):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    stat = entry.stat()
                    copies.append((stat.st_mtime_ns, stat.st_size, entry))
            total = sum(size for _mtime, size, _entry in copies)
            for _mtime, size, entry in sorted(copies, key=lambda c: c[0]):
                if total <= self.max_bytes:
                    break
                entry.unlink(missing_ok=True)
                total -= size
