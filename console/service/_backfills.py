"""What the Backfills view reads: the backfills this console started, each with what its
destination says it has done (or why that cannot be read now)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from console._store import Store
from console.backfill import BackfillStatus, backfill_status, location
from console.backfill._manifest import cancel_requested
from console.backfill._registry import BackfillRecord, recorded_backfills
from console.metrics._cost import CostReport


@dataclass(frozen=True)
class BackfillView:
    record: BackfillRecord
    status: BackfillStatus | None
    problem: str | None = None
    cancelled: bool = False  # its cancel marker is written: its tasks stop taking documents
    # The OCR service's instance time while it ran, priced (None: nothing billed, as on the
    # local platform, or not read). The service may serve others meanwhile: an upper bound.
    cost: CostReport | None = None

    @property
    def finished(self) -> bool:
        """Nothing is left to do (documents done or failed): no cancel to offer."""
        return self.status is not None and self.status.left == 0

    @property
    def window(self) -> tuple[float, float]:
        """(start, end) in epoch seconds: from its start to its tasks' last word when it is
        finished, else to now."""
        tasks = self.status.tasks if self.status is not None else []
        end = max((t.updated_at for t in tasks), default=time.time())
        return self.record.started_at, end if self.finished else time.time()

    @property
    def projected_cost(self) -> float | None:
        """The cost so far scaled to the whole backfill by the share of documents done."""
        if self.cost is None or self.status is None or self.status.share_done <= 0:
            return None
        return self.cost.cost / self.status.share_done


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
