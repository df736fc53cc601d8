"""Where a backfill reads and writes: a local folder or a GCS prefix (`gs://bucket/prefix/`).

Two properties carry the backfill's promises:

- a listing names each object with its generation (a local file: its size and mtime in
  nanoseconds), so the manifest frozen at submit reads exactly what was listed, even if a
  file is replaced later;
- `write_once` never overwrites: a local file is written to a temporary name and linked into
  place (the link fails if the name exists), an object is written with `if_generation_match=0`
  (GCS refuses it if the object exists). So a retried task, or two tasks that raced on one
  document, write each output exactly once.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

GCS_SCHEME = "gs://"


@dataclass(frozen=True)
class Listed:
    """One input as listed: its name relative to the source, its generation and size."""

    name: str
    generation: str
    size: int


class AlreadyWritten(FileExistsError):
    """An output that exists already: written by an earlier attempt or run."""


class Location(ABC):
    """A folder of objects by relative POSIX name."""

    url: str

    @abstractmethod
    def list(self) -> Iterator[Listed]: ...

    @abstractmethod
    def read(self, name: str, generation: str | None = None) -> bytes: ...

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def write_once(self, name: str, data: bytes) -> None:
        """Write `name` unless it exists (AlreadyWritten then)."""

    @abstractmethod
    def write(self, name: str, data: bytes) -> None:
        """Write or replace `name` (progress and failure records, not outputs)."""

    def names_under(self, prefix: str) -> Iterator[str]:
        for listed in self.list():
            if listed.name.startswith(prefix):
                yield listed.name


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"not a relative object name: {name!r}")
    return path


class FolderLocation(Location):
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.url = str(self.root)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*_safe(name).parts)

    def list(self) -> Iterator[Listed]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-"):
                stat = path.stat()
                name = path.relative_to(self.root).as_posix()
                yield Listed(name, f"{stat.st_size}-{stat.st_mtime_ns}", stat.st_size)

    def read(self, name: str, generation: str | None = None) -> bytes:
        path = self._path(name)
        data = path.read_bytes()
        if generation is not None:
            stat = path.stat()
            if f"{stat.st_size}-{stat.st_mtime_ns}" != generation:
                raise FileNotFoundError(f"{name} changed since it was listed")
        return data

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def _temporary(self, path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return temporary

    def write_once(self, name: str, data: bytes) -> None:
        path = self._path(name)
        temporary = self._temporary(path, data)
        try:
            os.link(temporary, path)  # atomic, and refuses an existing name
        except FileExistsError:
            raise AlreadyWritten(name) from None
        finally:
            Path(temporary).unlink(missing_ok=True)

    def write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        os.replace(self._temporary(path, data), path)


class BucketLocation(Location):
    """`gs://bucket/prefix/` through google-cloud-storage (`client` from the environment if
    None; tests hand in one pointed at an emulator)."""

    def __init__(self, url: str, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix(GCS_SCHEME).partition("/")
        if not bucket:
            raise ValueError(f"not a gs:// URL: {url!r}")
        if client is None:
            from google.cloud import storage

            client = storage.Client()
        self._bucket = client.bucket(bucket)
        self._prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
        self.url = f"{GCS_SCHEME}{bucket}/{self._prefix}"

    def _key(self, name: str) -> str:
        return self._prefix + _safe(name).as_posix()

    def list(self) -> Iterator[Listed]:
        for blob in self._bucket.list_blobs(prefix=self._prefix):
            name = str(blob.name)[len(self._prefix) :]
            if name and not name.endswith("/"):
                yield Listed(name, str(blob.generation), int(blob.size or 0))

    def read(self, name: str, generation: str | None = None) -> bytes:
        blob = self._bucket.blob(
            self._key(name), generation=int(generation) if generation else None
        )
        return bytes(blob.download_as_bytes())

    def exists(self, name: str) -> bool:
        return bool(self._bucket.blob(self._key(name)).exists())

    def write_once(self, name: str, data: bytes) -> None:
        from google.api_core import exceptions

        try:
            self._bucket.blob(self._key(name)).upload_from_string(data, if_generation_match=0)
        except exceptions.PreconditionFailed:
            raise AlreadyWritten(name) from None

    def write(self, name: str, data: bytes) -> None:
        self._bucket.blob(self._key(name)).upload_from_string(data)


def location(url: str, client: Any = None, *, create: bool = False) -> Location:
    """A `gs://` URL or a local folder (made when `create`, for outputs)."""
    if url.startswith(GCS_SCHEME):
        return BucketLocation(url, client)
    folder = Path(url).expanduser()
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    return FolderLocation(folder)
