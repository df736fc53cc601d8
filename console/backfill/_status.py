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
        return sum(1 for t in self.tasks if not t.finished and self.now - t.updated_at < 60)

    @property
    def pages_per_s(self) -> float | None:
        """Pages read per second over the tasks' own time, all tasks together."""
        if not self.tasks:
            return None
        started = min(t.started_at for t in self.tasks)
        ended = max(t.updated_at for t in self.tasks)
        return self.pages / (ended - started) if ended > started and self.pages else None

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
            "eta_s": self.eta_s,
            "tasks_running": self.running,
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
