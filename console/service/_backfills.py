"""What the Backfills view reads: the backfills this console started, each with what its
destination says it has done (or why that cannot be read now)."""

from __future__ import annotations

from dataclasses import dataclass

from console._store import Store
from console.backfill import BackfillStatus, backfill_status, location
from console.backfill._registry import BackfillRecord, recorded_backfills


@dataclass(frozen=True)
class BackfillView:
    record: BackfillRecord
    status: BackfillStatus | None
    problem: str | None = None


def backfill_views(store: Store, limit: int = 20) -> list[BackfillView]:
    views = []
    for record in recorded_backfills(store)[:limit]:
        try:
            status = backfill_status(location(record.dest), record.backfill_id)
        except (OSError, ValueError, KeyError) as error:
            views.append(BackfillView(record, None, f"{type(error).__name__}: {error}"))
            continue
        views.append(BackfillView(record, status))
    return views
