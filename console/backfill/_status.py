"""What a backfill has done, read from DEST alone: its manifest, the `.json` outputs that
exist (a document is done when its `.json` is), the failure records and the tasks' counts.

Nothing else is needed, so the console's Backfills view, `python -m console.backfill status`
and a person with `gsutil ls` see the same thing, and a backfill run on Cloud Run Jobs needs
no database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from console.backfill._locations import Location
from console.backfill._manifest import META, Manifest, load, output_name
from console.backfill._task import TaskProgress

SILENT_S = 60.0  # a task not heard from for this long is not working
NOW_S = 120.0  # "pages per second now" is over this much of the tasks' recent writes


@dataclass
class Failure:
    document: str
    reason: str
    failed_pages: int = 0


@dataclass
class BackfillStatus:
    manifest: Manifest
    done: int
    failed: list[Failure]
    tasks: list[TaskProgress] = field(default_factory=list)
    now: float = field(default_factory=time.time)

    @property
    def documents(self) -> int:
        return len(self.manifest.entries)

    @property
    def documents_failed(self) -> int:
        return sum(1 for f in self.failed if not f.failed_pages)

    @property
    def left(self) -> int:
        return self.documents - self.done - self.documents_failed

    @property
    def pages(self) -> int:
        return sum(t.pages for t in self.tasks)

    @property
    def running(self) -> int:
        """Tasks working now: heard from within SILENT_S, neither finished nor stopped."""
        return sum(
            1
            for t in self.tasks
            if not t.finished and t.stopped is None and self.now - t.updated_at < SILENT_S
        )

    @property
    def pages_per_s(self) -> float | None:
        """Pages read per second over the tasks' own time, all tasks together."""
        if not self.tasks:
            return None
        started = min(t.started_at for t in self.tasks)
        ended = max(t.updated_at for t in self.tasks)
        return self.pages / (ended - started) if ended > started and self.pages else None

    @property
    def pages_per_s_now(self) -> float | None:
        """The working tasks' pace over their last writes (up to two minutes): what the
        backfill does now, where `pages_per_s` is its pace since it started."""
        rate, measured = 0.0, False
        for task in self.tasks:
            if task.finished or self.now - task.updated_at >= SILENT_S:
                continue
            recent = [(at, pages) for at, pages in task.recent if self.now - at <= NOW_S]
            if len(recent) >= 2 and recent[-1][0] > recent[0][0]:
                rate += (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
                measured = True
        return rate if measured else None

    @property
    def tasks_finished(self) -> int:
        return sum(1 for t in self.tasks if t.finished)

    @property
    def tasks_stopped(self) -> int:
        """Tasks that ended without finishing (a signal, a cancel) or fell silent."""
        return sum(
            1
            for t in self.tasks
            if not t.finished and (t.stopped is not None or self.now - t.updated_at >= SILENT_S)
        )

    @property
    def share_done(self) -> float:
        """Documents done or failed, of all: what a projection scales by."""
        return (self.done + self.documents_failed) / self.documents if self.documents else 1.0

    @property
    def eta_s(self) -> float | None:
        done = sum(t.done for t in self.tasks)
        rate = self.pages_per_s
        if not rate or not done or self.left <= 0:
            return None
        return self.left * (self.pages / done) / rate

    def to_dict(self) -> dict[str, object]:
        return {
            "backfill": self.manifest.backfill_id,
            "source": self.manifest.source,
            "dest": self.manifest.dest,
            "documents": self.documents,
            "done": self.done,
            "failed": self.documents_failed,
            "with_failed_pages": sum(1 for f in self.failed if f.failed_pages),
            "left": self.left,
            "pages": self.pages,
            "pages_per_s": self.pages_per_s,
            "pages_per_s_now": self.pages_per_s_now,
            "eta_s": self.eta_s,
            "tasks_running": self.running,
            "tasks_finished": self.tasks_finished,
            "tasks_stopped": self.tasks_stopped,
            "failures": [vars(f) for f in self.failed],
        }


def backfill_status(dest: Location, backfill_id: str) -> BackfillStatus:
    manifest = load(dest, backfill_id)
    written = {listed.name for listed in dest.list()}
    done = sum(1 for e in manifest.entries if output_name(e.name, "json") in written)
    failures: list[Failure] = []
    tasks: list[TaskProgress] = []
    prefix = f"{META}/{backfill_id}/"
    for name in sorted(written):
        if not name.startswith(prefix):
            continue
        if name.startswith(prefix + "failures/"):
            record = json.loads(dest.read(name))
            document = record["document"]
            if "error" in record and output_name(document, "json") not in written:
                reason = f"{record['error']['type']}: {record['error']['message']}"
                failures.append(Failure(document, reason))
            elif record.get("failed_pages"):
                pages = record["failed_pages"]
                reasons = sorted({f"{p['type']}: {p['message']}" for p in pages})
                failures.append(Failure(document, "; ".join(reasons), len(pages)))
        elif name.startswith(prefix + "tasks/"):
            tasks.append(TaskProgress(**json.loads(dest.read(name))))
    return BackfillStatus(manifest, done, failures, tasks)
