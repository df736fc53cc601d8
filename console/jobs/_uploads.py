"""A job's uploads, streamed into the object store before its rows are written.

Nothing of a job is kept unless all of it is: past the job's byte cap (JobTooLarge), on a
full disk (said as "disk full", a StoreError) or at an interrupt, the objects already written
are removed on the way out.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from console._disk import is_disk_full
from console._objects import ObjectStore, ObjectTooLarge
from console._store import StoreError
from console.settings import MAX_JOB_MB, ConsoleSettings

# An upload in progress is never this old: its object has no row yet, and is not an orphan.
ORPHAN_GRACE = timedelta(hours=1)
DOCUMENTS_KIND = "documents"
# A job's uploads together may not exceed this (LIGHTONOCR_MAX_JOB_MB).
MAX_JOB_MB_ENV = MAX_JOB_MB.name


@dataclass(frozen=True, slots=True)
class NewDocument:
    """An upload: its bytes, or a binary file to stream them from (read once, not kept)."""

    filename: str
    data: bytes | IO[bytes]


# A name as uploaded is kept (control characters are escaped where it is shown), but NUL
# cannot be: PostgreSQL refuses it in text. And a name is a label, not a payload.
MAX_FILENAME_CHARS = 1024


def storable_filename(filename: str) -> str:
    name = filename.replace("\x00", "\ufffd")
    return name if len(name) <= MAX_FILENAME_CHARS else name[: MAX_FILENAME_CHARS - 1] + "…"


class JobTooLarge(ValueError):
    """A job's uploads add up to more than LIGHTONOCR_MAX_JOB_MB: nothing of it is kept."""


def max_job_bytes(env: Mapping[str, str] | None = None) -> int:
    return int(ConsoleSettings.from_env(env).max_job_mb * (1 << 20))


def store_uploads(objects: ObjectStore, documents: Sequence[NewDocument]) -> list[tuple[str, int]]:
    """Each upload streamed to a new object: (key, size); none kept past the cap."""
    limit = max_job_bytes()
    stored: list[tuple[str, int]] = []
    try:
        for document in documents:
            source = (
                io.BytesIO(document.data) if isinstance(document.data, bytes) else document.data
            )
            key = objects.new_key()
            room = limit - sum(size for _key, size in stored)
            try:
                stored.append((key, objects.put(key, source, limit=room)))
            except OSError as error:
                if not is_disk_full(error):
                    raise
                raise StoreError(
                    f"disk full: no room for {document.filename!r} in the object store "
                    f"({objects}); nothing of this job was kept"
                ) from None
            except ObjectTooLarge:
                raise JobTooLarge(
                    f"the job's files add up to more than the {limit >> 20} MB a job may "
                    f"hold ({MAX_JOB_MB_ENV}); split them into smaller jobs"
                ) from None
    except BaseException:
        delete_objects(objects, [key for key, _size in stored])
        raise
    return stored


def delete_objects(objects: ObjectStore, keys: Iterable[str]) -> None:
    for key in keys:
        objects.delete(key)


def sweep_orphans(objects: ObjectStore, referenced: set[str], now: datetime) -> int:
    """Remove document objects not in `referenced`, written over ORPHAN_GRACE ago: what a
    submit killed outright left (its unfinished upload, or the documents uploaded before
    its rows were written), or a retention pass that died between rows and bytes."""
    cutoff = now.timestamp() - ORPHAN_GRACE.total_seconds()
    orphans = [
        key for key in objects.written_before(DOCUMENTS_KIND, cutoff) if key not in referenced
    ]
    delete_objects(objects, orphans)
    return len(orphans)
