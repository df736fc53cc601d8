"""Every page test gets the real local platform, installed for the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.service import Operations
from tests.console.ui.views.console_ops import installed_operations


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path) as operations:
        yield operations
