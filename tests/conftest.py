"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.local_server import LocalServer, start_local_server
from tests.fakes.postgres import PostgresServer, running_postgres

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus beside the project: real scans with ground truth and real-world PDFs."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {CORPUS}")
    return CORPUS


# Session fixtures are per process: under pytest-xdist each worker starts its own servers on
# ports the OS picks, in its own temporary folders, so workers share nothing but the CPU.


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The real local OCR server (rapidocr engine) on a free loopback port, for the session.

    Loading the engine takes seconds when idle and much longer on a loaded machine: the
    startup wait is a generous limit, not an expectation."""
    with start_local_server("--engine", "rapidocr", startup_timeout_s=300) as server:
        yield server


@pytest.fixture(scope="session")
def simulated_server() -> Iterator[LocalServer]:
    """The real local server with the simulated engine: 0.05 s per page, 8 slots, no OCR."""
    with start_local_server("--engine", "simulated", "--service-time", "0.05") as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session (per xdist worker); each test that needs a
    database creates its own in it. The outage tests stop their server and keep their own."""
    with running_postgres() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests, and run them last when the suite runs serially (Playwright
    then starts once). Under pytest-xdist (`--dist loadfile`, as `dev.py test` runs it) a
    module's tests run in one worker, so a browser module's console starts once, and two
    modules may run at once in two workers. Playwright's sync API and pytest-asyncio cannot
    share the main thread: tests/e2e/conftest.py stops it as soon as a worker's next test is
    not a browser test, so order is not needed for correctness."""
    for item in items:  # every test under tests/e2e, whether or not its file says so
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
