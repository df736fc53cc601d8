"""Documents' bytes in an object store: a folder, or a GCS bucket (a real emulator on
loopback, gcp-storage-emulator, driven by the real google-cloud-storage client)."""

from __future__ import annotations

import gc
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from gcp_storage_emulator.server import create_server
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from console._object_cache import LocalCopies
from console._objects import (
    BucketObjects,
    FolderObjects,
    ObjectStore,
    ObjectTooLarge,
    objects_from_env,
)
from tests.fakes.local_server import free_port

MB = 1 << 20


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["folder", "bucket"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "folder":
        return FolderObjects(tmp_path / "objects")
    endpoint = request.getfixturevalue("emulator")
    client = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": endpoint},
    )
    name = f"docs-{free_port()}"
    client.create_bucket(name)
    return BucketObjects(name, client)


def test_bytes_put_are_read_back_by_their_key(objects: ObjectStore) -> None:
    key = objects.new_key()
    data = bytes(range(256)) * 4096  # 1 MB
    assert objects.put(key, io.BytesIO(data)) == len(data)
    assert objects.exists(key)
    assert objects.read(key) == data


def test_an_object_of_several_upload_chunks_is_kept_whole(objects: ObjectStore) -> None:
    key = objects.new_key()
    data = bytes(range(256)) * (40 * 1024)  # 10 MB: more than one 8 MB resumable chunk
    assert objects.put(key, io.BytesIO(data)) == len(data)
    assert objects.read(key) == data


def test_an_object_is_read_back_streamed(objects: ObjectStore) -> None:
    key = objects.new_key()
    data = bytes(range(256)) * (12 * 1024)  # 3 MB
    objects.put(key, io.BytesIO(data))
    with objects.open(key) as reader:
        pieces = iter(lambda: reader.read(MB), b"")
        assert b"".join(pieces) == data


def test_a_deleted_object_is_gone_and_deleting_again_is_harmless(objects: ObjectStore) -> None:
    key = objects.new_key()
    objects.put(key, io.BytesIO(b"%PDF-1.7"))
    objects.delete(key)
    objects.delete(key)
    assert not objects.exists(key)


def test_an_object_past_its_limit_is_refused_and_nothing_is_kept(objects: ObjectStore) -> None:
    key = objects.new_key()
    with pytest.raises(ObjectTooLarge):
        objects.put(key, io.BytesIO(b"x" * (3 * MB)), limit=2 * MB)
    assert not objects.exists(key)


def test_a_folder_writes_whole_objects_only_and_refuses_keys_outside_it(tmp_path: Path) -> None:
    objects = FolderObjects(tmp_path / "objects")
    with pytest.raises(ObjectTooLarge):
        objects.put("documents/a", io.BytesIO(b"x" * (2 * MB)), limit=MB)
    assert [p.name for p in (tmp_path / "objects").rglob("*") if p.is_file()] == []
    with pytest.raises(ValueError, match="not an object key"):
        objects.put("../escape", io.BytesIO(b"x"))


def test_the_environment_chooses_a_bucket_or_the_data_folder(tmp_path: Path) -> None:
    folder = objects_from_env(tmp_path, {})
    assert isinstance(folder, FolderObjects) and folder.root == tmp_path / "objects"


def test_objects_written_before_a_time_are_listed_by_kind(objects: ObjectStore) -> None:
    key = objects.new_key()
    objects.put(key, io.BytesIO(b"old enough"))
    other = objects.new_key("golden")
    objects.put(other, io.BytesIO(b"another kind"))
    assert list(objects.written_before("documents", time.time() + 60)) == [key]
    assert list(objects.written_before("documents", time.time() - 3600)) == []


class _FlakySession(requests.Session):
    """The HTTP session the real storage client sends through: records each request, and
    answers the first chunk PUT with a 503 before it reaches the emulator, as GCS may; the
    client then asks where the upload stands and seeks back in the source to resume."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []
        self.dropped = False

    def request(self, method: str, url: str, *args: object, **kwargs: object):  # type: ignore[override]
        self.sent.append((method, url))
        chunk = isinstance(kwargs.get("data"), bytes) and bool(kwargs["data"])
        if method == "PUT" and "upload_id" in url and chunk and not self.dropped:
            self.dropped = True
            failed = requests.Response()
            failed.status_code, failed.url = 503, url
            failed._content = b"Service Unavailable"
            return failed
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def flaky(emulator: str) -> tuple[BucketObjects, _FlakySession]:
    session = _FlakySession()
    client = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": emulator},
        _http=session,
    )
    name = f"docs-{free_port()}"
    client.create_bucket(name)
    return BucketObjects(name, client), session


def test_an_upload_creates_only_so_a_retried_request_is_safe(flaky) -> None:
    # Issue 31, item 9: if_generation_match=0, so the client may send a request again.
    objects, session = flaky
    objects.put(objects.new_key(), io.BytesIO(b"%PDF-1.7 small"))

    uploads = [url for method, url in session.sent if method == "POST" and "uploadType" in url]
    assert uploads and all("ifGenerationMatch=0" in url for url in uploads)


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
def test_a_chunk_gcs_refused_is_sent_again_and_the_object_is_whole(flaky, seekable: bool) -> None:
    objects, session = flaky
    data = bytes(range(256)) * (40 * 1024)  # 10 MB: two resumable chunks
    source: io.RawIOBase | io.BytesIO = io.BytesIO(data) if seekable else _Pipe(data)
    key = objects.new_key()

    assert objects.put(key, source, limit=20 * MB) == len(data)  # type: ignore[arg-type]

    assert session.dropped
    assert objects.read(key) == data


class _Pipe(io.RawIOBase):
    """A source that cannot seek (a socket, a pipe, a streamed upload)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        piece = self._data.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)


def test_reading_an_object_again_reads_the_local_copy_not_the_bucket(flaky, tmp_path) -> None:
    # Issue 31, item 9: each page of a document shown read the whole document again.
    objects, session = flaky
    key = objects.new_key()
    data = bytes(range(256)) * (12 * 1024)  # 3 MB
    objects.put(key, io.BytesIO(data))

    def downloads() -> int:
        return sum(1 for method, url in session.sent if method == "GET" and "alt=media" in url)

    assert objects.read(key) == data
    first = downloads()
    reads = [objects.read(key) for _page in range(4)]

    assert all(read == data for read in reads)
    assert first >= 1 and downloads() == first  # the later pages read the local copy


def test_local_copies_keep_to_their_cap_least_recently_read_first_out(tmp_path: Path) -> None:
    copies = LocalCopies(max_bytes=2 * MB, folder=tmp_path / "copies")
    bucket = {name: bytes([n]) * MB for n, name in enumerate("abc")}

    def fetch(key: str) -> io.BytesIO:
        return io.BytesIO(bucket[key])

    copies.read("a", fetch)
    copies.read("b", fetch)
    os.utime(copies._path("a"), (1, 1))  # "a" read long ago
    copies.read("c", fetch)

    kept = sorted(p.name for p in (tmp_path / "copies").iterdir())
    assert kept == sorted(copies._path(k).name for k in ("b", "c"))


def test_a_deleted_object_loses_its_local_copy(flaky) -> None:
    objects, _session = flaky
    key = objects.new_key()
    objects.put(key, io.BytesIO(b"%PDF-1.7"))
    objects.read(key)

    objects.delete(key)

    assert not objects.exists(key)
    with pytest.raises(Exception):  # noqa: B017 - the bucket's NotFound, not a stale copy
        objects.read(key)


def test_local_copies_of_their_own_making_are_removed_with_them() -> None:
    copies = LocalCopies()
    folder = copies.folder
    copies.read("a", lambda _key: io.BytesIO(b"%PDF-1.7"))
    assert folder.is_dir()

    del copies
    gc.collect()

    assert not folder.exists()
