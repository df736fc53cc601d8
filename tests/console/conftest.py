"""Console tests run the app as it is served: bound to loopback (dev.py and the repository's
config file say so; set here too so that the tests do not depend on the folder pytest runs in)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config

from console._store import Store


@pytest.fixture(autouse=True, scope="session")
def _served_on_loopback() -> Iterator[None]:
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1", "tests/console/conftest.py")
    yield
    config.set_option("server.address", before, "tests/console/conftest.py")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A console store (SQLite and its object folder) in the test's own folder."""
    store = Store.in_dir(tmp_path)
    yield store
    store.close()
