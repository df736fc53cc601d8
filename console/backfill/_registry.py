"""The backfills a console knows of: each run started from it is recorded in its store, so
the Backfills view and `python -m console.backfill list` can show them; what each has done is
always read from its destination (`_status`), never copied into the store."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from console._store import Store
from console.backfill._manifest import Manifest

PREFIX = "backfill:"


@dataclass(frozen=True)
class BackfillRecord:
    backfill_id: str
    source: str
    dest: str
    started_by: str
    started_at: float
    where: str  # "local tasks" or a Cloud Run execution's name


def record_backfill(store: Store, manifest: Manifest, *, actor: str, where: str) -> None:
    record = BackfillRecord(
        manifest.backfill_id, manifest.source, manifest.dest, actor, time.time(), where
    )
    store.set_setting(PREFIX + manifest.backfill_id, asdict(record))


def recorded_backfills(store: Store) -> list[BackfillRecord]:
    """Newest first."""
    records = []
    for value in store.settings_under(PREFIX).values():
        try:
            records.append(BackfillRecord(**value))
        except TypeError:  # written by another version: not ours to read
            continue
    return sorted(records, key=lambda r: r.started_at, reverse=True)
