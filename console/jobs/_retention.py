"""How long jobs are kept, and removing those past it with the uploads nothing refers to.

`JobStore` carries these methods; they are apart because they delete, where the rest of the
job store creates, reads and marks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from console._store import Store, to_ts
from console.jobs._models import JobStatus
from console.jobs._tables import (
    documents_table,
    jobs_table,
    pages_table,
    references_table,
    words_table,
)
from console.jobs._uploads import delete_objects, sweep_orphans

RETENTION_SETTING = "job_retention_days"
DEFAULT_RETENTION_DAYS = 30


class JobRetention:
    """The retention side of `JobStore`: its setting, and pruning by it."""

    store: Store

    def retention_days(self) -> int:
        return int(self.store.get_setting(RETENTION_SETTING, DEFAULT_RETENTION_DAYS))

    def set_retention_days(self, days: int) -> None:
        if days < 1:
            raise ValueError("keep jobs for at least one day")
        self.store.set_setting(RETENTION_SETTING, int(days))

    def tidy(self, now: datetime | None = None) -> dict[str, int]:
        """Retention, then uploads nothing refers to: what was removed, by kind."""
        return {
            "jobs past their retention": self.prune(now),
            "uploads no job refers to": self.sweep_orphans(now),
        }

    def sweep_orphans(self, now: datetime | None = None) -> int:
        """Uploads no job refers to, an hour old (see `_uploads.sweep_orphans`)."""
        d = documents_table
        query = sa.select(d.c.object_key).where(d.c.object_key.is_not(None))
        referenced = {key for (key,) in self.store.read(query)}
        return sweep_orphans(self.store.objects, referenced, now or datetime.now(UTC))

    def prune(self, now: datetime | None = None) -> int:
        """Delete finished jobs older than the retention (with their documents and pages)."""
        cutoff = (
            to_ts(now or datetime.now(UTC)) - timedelta(days=self.retention_days()).total_seconds()
        )
        j = jobs_table
        with self.store.transaction() as connection:
            old = [
                row[0]
                for row in connection.execute(
                    sa.select(j.c.id).where(
                        j.c.created_at < cutoff,
                        j.c.status.not_in([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                    )
                )
            ]
            keys = []
            if old:
                d = documents_table
                keys = [
                    key
                    for (key,) in connection.execute(
                        sa.select(d.c.object_key).where(
                            d.c.job_id.in_(old), d.c.object_key.is_not(None)
                        )
                    )
                ]
                for table in (references_table, words_table, pages_table):
                    connection.execute(table.delete().where(table.c.job_id.in_(old)))
                connection.execute(
                    documents_table.delete().where(documents_table.c.job_id.in_(old))
                )
                connection.execute(j.delete().where(j.c.id.in_(old)))
        # After the rows: a crash in between leaves bytes, not holes.
        delete_objects(self.store.objects, keys)
        return len(old)
