"""Each warm-up's timeline of marks, kept beside the warm-up history.

When a warm-up had to start the service, the service's own log says where the time went
(`_startup_phases` reads vLLM's, Cloud Run's and the local server's lines). Right after the
warm-up the log is read over the warm-up's span and the marks found are stored with the
marks the warm-up saw itself: the request sent, /v1/models listing the model, the first OCR
answer. A warm service's warm-up has nothing to explain, so only its own marks are kept.

The marks live in their own table (`warm_up_marks`, one row per mark), keyed by the
warm-up's platform and time, so the warm-up history table is unchanged; an Alembic revision
creates it on a PostgreSQL store. Reading the log never fails a warm-up: an unreadable log
(no permission, the server gone) gives the warm-up's own marks only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from console._store import METADATA, Store, WarmUpRecord, from_ts, to_ts
from console.metrics._startup_phases import MARKS, Phase, marks_from_log, phases
from console.platforms._base import LogQuery, Platform, WarmUpMeasurement

logger = logging.getLogger(__name__)

# Log lines a little before the warm-up's start still belong to it (clock skew between the
# instance and the console; a local server process spawned as the clock started).
SLACK = timedelta(seconds=5)
# A vLLM cold start writes a few hundred lines; read enough to reach the first of them.
LOG_LIMIT = 5000

marks_table = sa.Table(
    "warm_up_marks",
    METADATA,
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("warm_up_ts", sa.Float, nullable=False),  # the warm-up's `at`, as warm_ups.ts
    sa.Column("mark", sa.String(32), nullable=False),  # one of _startup_phases.MARKS
    sa.Column("ts", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("platform", "warm_up_ts", "mark"),
)


@dataclass(frozen=True, slots=True)
class ColdStart:
    """One warm-up with its timeline."""

    record: WarmUpRecord
    marks: dict[str, datetime]

    @property
    def phases(self) -> list[Phase]:
        return phases(self.marks)


def timeline(
    platform: Platform,
    measured: WarmUpMeasurement,
    *,
    ended: datetime,
) -> dict[str, datetime]:
    """The warm-up's marks: its own, plus the service's log lines for a service that had
    to start (or failed to)."""
    sent = ended - timedelta(seconds=measured.seconds)
    marks = {"sent": sent, **measured.marks}
    if measured.ready:
        # The platform's warm-up ended when the model was listed, unless it said otherwise.
        marks.setdefault("model_listed", ended)
    if measured.was_ready:
        return marks
    try:
        entries = platform.logs(LogQuery(since=sent - SLACK, limit=LOG_LIMIT))
    except Exception as error:  # an unreadable log costs the log's marks, never the warm-up
        logger.warning("cold-start marks: the service log could not be read: %s", error)
        return marks
    found = marks_from_log(
        ((entry.timestamp, entry.message) for entry in entries), since=sent - SLACK, until=ended
    )
    return {**found, **marks}


class ColdStarts:
    """The `warm_up_marks` table of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, warm_up: WarmUpRecord, marks: dict[str, datetime]) -> None:
        """Keep the marks not yet stored for this warm-up (a re-read adds only new ones)."""
        known = self.timelines([warm_up])[0].marks
        marks = {mark: at for mark, at in marks.items() if mark not in known}
        rows = [
            {
                "platform": warm_up.platform,
                "warm_up_ts": to_ts(warm_up.at),
                "mark": mark,
                "ts": to_ts(at),
            }
            for mark, at in marks.items()
            if mark in MARKS
        ]
        if rows:
            with self.store.transaction() as connection:
                connection.execute(marks_table.insert(), rows)

    def timelines(self, warm_ups: Sequence[WarmUpRecord]) -> list[ColdStart]:
        """The given warm-ups (in their order) with the marks stored for each."""
        if not warm_ups:
            return []
        t = marks_table
        keys = {(w.platform, to_ts(w.at)) for w in warm_ups}
        platforms = {platform for platform, _ts in keys}
        oldest = min(ts for _platform, ts in keys) - 1.0
        rows = self.store.read(
            sa.select(t.c.platform, t.c.warm_up_ts, t.c.mark, t.c.ts).where(
                t.c.platform.in_(platforms), t.c.warm_up_ts >= oldest
            )
        )
        # Matched to the millisecond: a time read back from the store is rounded to microseconds.
        found: dict[tuple[str, float], dict[str, datetime]] = {}
        for platform, warm_up_ts, mark, ts in rows:
            found.setdefault((platform, round(warm_up_ts, 3)), {})[mark] = from_ts(ts)
        return [ColdStart(w, found.get((w.platform, round(to_ts(w.at), 3)), {})) for w in warm_ups]


def reread(platform: Platform, store: Store, warm_ups: Sequence[WarmUpRecord]) -> int:
    """Read the service log again for recent cold starts: a cloud log may still have been
    ingesting their lines when the warm-up ended. Returns how many marks were added."""
    cold_starts = ColdStarts(store)
    added = 0
    for known in cold_starts.timelines([w for w in warm_ups if w.cold]):
        record = known.record
        measured = WarmUpMeasurement(
            record.ready, record.seconds, record.attempts, error=record.error, marks=known.marks
        )
        ended = record.at + timedelta(seconds=record.seconds)
        found = timeline(platform, measured, ended=ended)
        new = {mark: at for mark, at in found.items() if mark not in known.marks}
        cold_starts.record(record, new)
        added += len([mark for mark in new if mark in MARKS])
    return added


__all__ = ["LOG_LIMIT", "SLACK", "ColdStart", "ColdStarts", "marks_table", "reread", "timeline"]
