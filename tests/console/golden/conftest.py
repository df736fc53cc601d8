"""Golden sets on a store in a tmp folder; documents are the real corpus scans shipped in
examples/golden (tesseract's test images, Apache-2.0; see examples/README.md)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.golden import GoldenStore
from console.jobs import JobStore
from tests.deploy.conftest import deployer, fake_run, run_env, target  # noqa: F401 - the canary's

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "golden"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.in_dir(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def golden(store: Store) -> GoldenStore:
    return GoldenStore(store)


@pytest.fixture
def jobs(store: Store) -> JobStore:
    return JobStore(store)


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def phototest_set(folder: Path) -> Path:
    """A one-document golden set: phototest.tif and its ground truth."""
    return write_files(
        folder,
        {
            "phototest.tif": (EXAMPLES / "phototest.tif").read_bytes(),
            "phototest.txt": (EXAMPLES / "phototest.txt").read_bytes(),
        },
    )
