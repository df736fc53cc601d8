"""What the Backfills view reads: the backfills this console started, each with what its
destination says it has done (or why that cannot be read now)."""

from __future__ import annotations

from dataclasses import dataclass

from console._store import Store
from console.backfill import BackfillStatus, backfill_status, location
from console.backfill._manifest import cancel_requested
from console.backfill._registry import BackfillRecord, recorded_backfills


@dataclass(frozen=True)
class BackfillView:
    record: BackfillRecord
    status: BackfillStatus | None
    problem: str | None = None
    cancelled: bool = False  # its cancel marker is written: its tasks stop taking documents

    @property
    def finished(self) -> bool:
        """Nothing is left to do (documents done or failed): no cancel to offer."""
        return self.status is not None and self.status.left == 0


def backfill_views(store: Store, limit: int = 20) -> list[BackfillView]:
    views = []
    for record in recorded_backfills(store)[:limit]:
        try:
            dest = location(record.dest)
            status = backfill_status(dest, record.backfill_id)
            cancelled = cancel_requested(dest, record.backfill_id)
        except (OSError, ValueError, KeyError) as error:
            views.append(BackfillView(record, None, f"{type(error).__name__}: {error}"))
            continue
        views.append(BackfillView(record, status, cancelled=cancelled))
    return views
