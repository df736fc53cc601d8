"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.local_server import LocalServer, start_local_server

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus beside the project: real scans with ground truth and real-world PDFs."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The real local OCR server (rapidocr engine) on a free loopback port, for the session."""
    with start_local_server("--engine", "rapidocr", startup_timeout_s=120) as server:
        yield server


@pytest.fixture(scope="session")
def simulated_server() -> Iterator[LocalServer]:
    """The real local server with the simulated engine: 0.05 s per page, 8 slots, no OCR."""
    with start_local_server("--engine", "simulated", "--service-time", "0.05") as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the
    main thread for as long as its browser lives, which pytest-asyncio's tests cannot share."""
    for item in items:  # every test under tests/e2e, whether or not its file says so
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
