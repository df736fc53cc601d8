"""Fixtures of the client's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.fault_server import FaultServer


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A fresh fault-injecting OCR server on loopback, healthy until a test scripts a fault."""
    with FaultServer() as running:
        yield running
