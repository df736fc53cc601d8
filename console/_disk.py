"""Disk full, said where it happens.

On a full disk nothing the console owes can be written: pages, the worker's beat, a job's
release. Left alone, that shows as a job forever "running" beside "worker: not running",
which sends an operator looking for a crashed worker. The store's and the object store's
folders are measured instead, and a full one is named.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from console.settings import LOW_DISK_MB, ConsoleSettings

if TYPE_CHECKING:
    from console._store import Store

# Below this much free space a page, a beat or an upload may not fit: said as "disk full".
LOW_DISK_ENV = LOW_DISK_MB.name


def low_disk_bytes() -> int:
    return int(ConsoleSettings.from_env().low_disk_mb * (1 << 20))


FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in FULL_ERRNOS


def disk_full_notice(folders: Iterable[Path], low_bytes: int | None = None) -> str | None:
    """What to say when a folder the console writes to has less than `low_bytes` free
    (LIGHTONOCR_LOW_DISK_MB, 64 MB by default)."""
    low_bytes = low_disk_bytes() if low_bytes is None else low_bytes
    for folder in folders:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue
        if free < low_bytes:
            return (
                f"disk full: {free / (1 << 20):.0f} MB free where the console writes "
                f"({folder}); pages, uploads and the worker's beat cannot be saved until "
                "space is freed (old jobs can be removed with a shorter retention)"
            )
    return None


def store_disk_notice(store: Store, low_bytes: int | None = None) -> str | None:
    """`disk_full_notice` for the folders this store writes to (its SQLite file's, and the
    object folder's); a database or bucket elsewhere is not measured from here."""
    folders = [store.path.parent] if store.path is not None else []
    root = getattr(store.objects, "root", None)
    if root is not None:
        folders.append(Path(root))
    return disk_full_notice(folders, low_bytes)
