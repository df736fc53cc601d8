"""What the Backfills view reads through the door on Cloud Run: the OCR service's cost while
a backfill ran (the fake Monitoring server's seeded hour of instance counts, through the real
google-cloud-monitoring client), and the projection by the share of documents done."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest

from console._store import Store
from console.backfill import Manifest, freeze, location
from console.backfill._manifest import output_name
from console.backfill._registry import PREFIX, BackfillRecord
from console.service import Operations
from tests.console.jobs.conftest import make_pdf
from tests.fakes.cloud import cloudrun_platform_with_fakes


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path / "data"), actor="ops")
        try:
            yield operations
        finally:
            operations.close()


def _started_40_minutes_ago(operations: Operations, tmp_path: Path) -> Manifest:
    """A backfill of two documents, recorded as this console recorded it 40 minutes ago."""
    source = tmp_path / "scans"
    source.mkdir()
    for n in range(2):
        (source / f"loan-{n}.pdf").write_bytes(make_pdf(1))
    manifest = freeze(location(str(source)), location(str(tmp_path / "out"), create=True))
    record = BackfillRecord(
        manifest.backfill_id, manifest.source, manifest.dest, "ops", time.time() - 2400, "4 tasks"
    )
    operations.store.set_setting(PREFIX + manifest.backfill_id, asdict(record))
    return manifest


def test_a_backfill_costs_the_services_instance_time_since_it_started(
    operations: Operations, tmp_path: Path
) -> None:
    _started_40_minutes_ago(operations, tmp_path)
    hour = operations.cost(timedelta(hours=1))

    [view] = operations.backfills()

    assert view.cost is not None and hour is not None
    assert 0 < view.cost.cost < hour.cost  # 40 of the seeded hour's minutes
    assert view.projected_cost is None  # nothing done yet: nothing to scale by


def test_the_projection_scales_the_cost_by_the_share_of_documents_done(
    operations: Operations, tmp_path: Path
) -> None:
    manifest = _started_40_minutes_ago(operations, tmp_path)
    location(manifest.dest).write_once(output_name("loan-0.pdf", "json"), b"{}")  # one done

    [view] = operations.backfills()

    assert view.cost is not None and view.projected_cost is not None
    assert view.projected_cost == pytest.approx(view.cost.cost * 2)
