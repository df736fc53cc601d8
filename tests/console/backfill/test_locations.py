"""Where a backfill reads and writes: a folder, or a bucket (a real GCS emulator on loopback,
driven by the real google-cloud-storage client). An output is written once: a second write
of the same name is refused, whichever process makes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from gcp_storage_emulator.server import create_server
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from console.backfill._locations import AlreadyWritten, BucketLocation, Location, location
from tests.fakes.local_server import free_port


class CreateOnlySession(requests.Session):
    """The emulator with GCS's precondition on uploads: `ifGenerationMatch=0` creates the
    object only if none exists, else 412 (gcp-storage-emulator ignores the parameter; GCS's
    "Request preconditions" page: "the request only succeeds if the object does not exist")."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        params = kwargs.get("params") or {}
        query = parse_qs(urlsplit(url).query)
        wanted = params.get("ifGenerationMatch", (query.get("ifGenerationMatch") or [None])[0])
        if method == "POST" and "/upload/" in url and str(wanted) == "0":
            name = params.get("name") or (query.get("name") or [None])[0]
            if name is None:  # a multipart upload names the object in its body
                body = kwargs.get("data") or b""
                name = json.loads(body.split(b"\r\n\r\n", 2)[1].split(b"\r\n")[0])["name"]
            bucket = urlsplit(url).path.split("/b/")[1].split("/")[0]
            base = url.split("/upload/")[0]
            found = super().request("GET", f"{base}/storage/v1/b/{bucket}/o/{quote(name, safe='')}")
            if found.status_code == 200:
                refused = requests.Response()
                refused.status_code, refused.url = 412, url
                refused.request = requests.Request(method, url).prepare()
                refused._content = json.dumps(
                    {
                        "error": {
                            "code": 412,
                            "message": "At least one of the pre-conditions you "
                            "specified did not hold.",
                        }
                    }
                ).encode()
                refused.headers["Content-Type"] = "application/json"
                return refused
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def emulator() -> Iterator[storage.Client]:
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield storage.Client(
            project="test",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": f"http://127.0.0.1:{port}"},
            _http=CreateOnlySession(),
        )
    finally:
        server.stop()


@pytest.fixture(params=["folder", "bucket"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "folder":
        return location(str(tmp_path / "out"), create=True)
    client = request.getfixturevalue("emulator")
    name = f"ocr-{free_port()}"
    client.create_bucket(name)
    return BucketLocation(f"gs://{name}/2019/", client)


def test_an_output_is_written_once_and_a_second_write_is_refused(where: Location) -> None:
    where.write_once("a/loan.pdf.json", b'{"first": true}')
    with pytest.raises(AlreadyWritten):
        where.write_once("a/loan.pdf.json", b'{"second": true}')
    assert where.read("a/loan.pdf.json") == b'{"first": true}'


def test_a_listing_names_each_object_with_its_generation(where: Location) -> None:
    where.write_once("b/scan.tif", b"II*\x00")
    [listed] = [entry for entry in where.list() if entry.name == "b/scan.tif"]
    assert listed.size == 4 and listed.generation
    assert where.read("b/scan.tif", listed.generation) == b"II*\x00"


def test_a_name_that_leaves_the_folder_is_refused(where: Location) -> None:
    with pytest.raises(ValueError, match="not a relative object name"):
        where.write("../escape.md", b"x")
