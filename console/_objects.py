"""Where uploaded documents' bytes live: an object store, not the database.

The database keeps jobs, documents' metadata and the text; a document's bytes go here under a
generated key (never a user's file name), streamed in and out, so a 50 MB upload is neither
held whole in memory nor written into a row (or a Cloud SQL row on the team deployment).

- a folder, `objects/` beside the SQLite file (or under LIGHTONOCR_DATA_DIR): each object
  written to a temporary file and renamed into place, so a reader never sees half of one;
- a Google Cloud Storage bucket when LIGHTONOCR_BUCKET is set (google-cloud-storage, with
  the console's credentials; STORAGE_EMULATOR_HOST points it at an emulator).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from console._object_cache import LocalCopies
from console.settings import BUCKET, ConsoleSettings

BUCKET_ENV = BUCKET.name
_CHUNK = 1 << 20


class ObjectStore(ABC):
    """Bytes by key; keys are made here (`new_key`), so no name comes from a user."""

    @staticmethod
    def new_key(kind: str = "documents") -> str:
        return f"{kind}/{uuid.uuid4().hex}"

    @abstractmethod
    def put(self, key: str, source: IO[bytes], *, limit: int | None = None) -> int:
        """Copy `source` to `key`, streamed; its size. Past `limit` bytes, nothing is kept
        and `ObjectTooLarge` is raised."""

    @abstractmethod
    def read(self, key: str) -> bytes: ...

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A binary reader of `key`, streamed (close it): for copying an object out without
        holding it whole."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key` (nothing if it is gone already)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def written_before(self, kind: str, cutoff: float) -> Iterator[str]:
        """Keys of `kind` (and uploads left unfinished) last written before `cutoff` (epoch
        seconds): the candidates when looking for objects nothing refers to."""


class ObjectTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than the {limit >> 20} MB allowed")
        self.limit = limit


class ObjectIncomplete(OSError):
    """The store said an upload was complete before the whole source was sent: nothing is
    kept rather than a truncated document."""


class _Bounded:
    """A reader that raises ObjectTooLarge once more than `limit` bytes came through, and
    seeks back within its source (an upload's retried chunk is read again from there)."""

    def __init__(self, source: IO[bytes], limit: int | None) -> None:
        self._source = source
        self._limit = limit
        self._seekable = bool(getattr(source, "seekable", lambda: False)())
        self._start = source.tell() if self._seekable else 0
        self.count = 0

    def tell(self) -> int:
        return self.count

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            offset += self._start
        self.count = self._source.seek(offset, whence) - self._start
        return self.count

    def read(self, size: int = -1) -> bytes:
        piece = self._source.read(_CHUNK if size is None or size < 0 else size)
        self.count += len(piece)
        if self._limit is not None and self.count > self._limit:
            raise ObjectTooLarge(self._limit)
        return piece


class FolderObjects(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __str__(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"not an object key: {key!r}")
        return path

    def put(self, key: str, source: IO[bytes], *, limit: int | None = None) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        bounded = _Bounded(source, limit)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(bounded, out, _CHUNK)  # type: ignore[misc]
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return bounded.count

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def written_before(self, kind: str, cutoff: float) -> Iterator[str]:
        folder = self.root / kind
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    yield f"{kind}/{path.name}"


class BucketObjects(ObjectStore):
    """A GCS bucket (`client` a google.cloud.storage.Client; built from the environment if
    None). Uploads are resumable, in chunks, so a large document is never held whole."""

    def __init__(self, bucket: str, client: Any = None, copies: LocalCopies | None = None) -> None:
        if client is None:
            from google.cloud import storage  # lazy: the console extra only

            client = storage.Client()
        self._bucket = client.bucket(bucket)
        self.name = bucket
        # Reads go through local copies: a page view must not download its whole document
        # for every page (objects are immutable, so a copy never goes stale).
        self._copies = copies or LocalCopies.from_env()

    def __str__(self) -> str:
        return f"gs://{self.name}"

    def put(self, key: str, source: IO[bytes], *, limit: int | None = None) -> int:
        """Create `key` (never replace one: `if_generation_match=0`), so sending a failed
        request again is safe and the client does: google-cloud-storage's policy for it,
        `DEFAULT_RETRY_IF_GENERATION_SPECIFIED`, retries only with a precondition (the
        default of `upload_from_file` at our floor, 2.14; passed here so 3.x behaves alike).
        A resumable upload resumes by seeking in its source (`ResumableUpload.recover`), so a
        source that cannot seek is spooled to a temporary file first."""
        with contextlib.ExitStack() as stack:
            if not _Bounded(source, None).seekable():
                spool = stack.enter_context(tempfile.SpooledTemporaryFile(8 * _CHUNK))
                _copy_bounded(source, spool, limit)
                spool.seek(0)
                source = spool  # type: ignore[assignment]
            return self._upload(key, _Bounded(source, limit))

    def _upload(self, key: str, bounded: _Bounded) -> int:
        from google.cloud.storage.retry import DEFAULT_RETRY_IF_GENERATION_SPECIFIED

        blob = self._bucket.blob(key, chunk_size=8 * _CHUNK)
        try:
            blob.upload_from_file(
                bounded,
                content_type="application/octet-stream",
                if_generation_match=0,
                retry=DEFAULT_RETRY_IF_GENERATION_SPECIFIED,
            )
            left = bounded.read(1)  # the client stops where the server says it is done
        except ObjectTooLarge:
            self.delete(key)
            raise
        if left:
            self.delete(key)
            raise ObjectIncomplete(f"the bucket kept only {bounded.count - 1} bytes of {key}")
        return bounded.count

    def read(self, key: str) -> bytes:
        return self._copies.read(key, self.open)

    def open(self, key: str) -> IO[bytes]:
        return self._bucket.blob(key, chunk_size=8 * _CHUNK).open("rb")  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        from google.api_core import exceptions

        self._copies.drop(key)
        with contextlib.suppress(exceptions.NotFound):
            self._bucket.blob(key).delete()

    def exists(self, key: str) -> bool:
        return bool(self._bucket.blob(key).exists())

    def written_before(self, kind: str, cutoff: float) -> Iterator[str]:
        # An unfinished resumable upload is no object in GCS: only whole objects are listed.
        for blob in self._bucket.list_blobs(prefix=f"{kind}/"):
            if blob.updated is not None and blob.updated.timestamp() < cutoff:
                yield str(blob.name)


def _copy_bounded(source: IO[bytes], target: IO[bytes], limit: int | None) -> None:
    shutil.copyfileobj(_Bounded(source, limit), target, _CHUNK)  # type: ignore[misc]


def objects_from_env(data_dir: Path, env: Mapping[str, str] | None = None) -> ObjectStore:
    """The bucket named by LIGHTONOCR_BUCKET, else the folder `objects/` in `data_dir`."""
    if bucket := ConsoleSettings.from_env(env).bucket:
        return BucketObjects(bucket)
    return FolderObjects(Path(data_dir) / "objects")
