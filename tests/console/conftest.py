"""Console tests run the app as it is served: bound to loopback (dev.py and the repository's
config file say so; set here too so that the tests do not depend on the folder pytest runs in)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config


@pytest.fixture(autouse=True, scope="session")
def _served_on_loopback() -> Iterator[None]:
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1", "tests/console/conftest.py")
    yield
    config.set_option("server.address", before, "tests/console/conftest.py")
