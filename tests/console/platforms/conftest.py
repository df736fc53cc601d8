"""Fixtures for the platform tests: the cloudrun platform on fake Google servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes

# The platform's clock in these tests: every seeded timestamp is relative to it.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def cloud() -> Iterator[CloudFakes]:
    """Fake Run (seed service deployed), Logging and Monitoring with a week of data."""
    with cloudrun_platform_with_fakes(now=NOW) as fakes:
        yield fakes


@pytest.fixture
def empty_cloud() -> Iterator[CloudFakes]:
    """The seed service deployed, but no logs and no metrics yet."""
    with cloudrun_platform_with_fakes(now=NOW, seed=False) as fakes:
        yield fakes
