"""Fixtures for the platform tests: local platforms on a tmp folder, and the cloudrun
platform on fake Google servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.platforms.local import LocalPlatform
from tests.console.local_platform import local_platforms
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


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    """LocalPlatforms on one tmp folder (see `local_platforms`), all closed at the end."""
    with local_platforms(tmp_path) as make:
        yield make
