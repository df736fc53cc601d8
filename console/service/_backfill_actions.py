"""Backfill actions of the one door: cancel, retry the failed documents, open a document in
the workbench. Authorised as operator and audited like every action.

- Cancel writes the backfill's cancel marker at its destination (`console/backfill/_control`):
  every task, local process or Cloud Run task, stops taking documents at its next one.
- Retry freezes a new backfill of only the failed documents (their outputs are replaced) and
  runs it as local task processes against this console's service, listed in the view.
- Open in workbench reads the document from the source (as the backfill froze it) into a new
  job of this console: its pages, text, overlay and retries are the workbench's. A backfill's
  outputs are files, not a job; reading the document again is what makes its pages workable.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from console._identity import Identity
from console.backfill import load, location
from console.backfill._control import freeze_retry, request_cancel
from console.backfill._registry import BackfillRecord, record_backfill, recorded_backfills
from console.jobs import NewDocument
from console.metrics._cost import CostReport
from console.service._backfills import BackfillView, backfill_views
from console.service._job_actions import JobActions
from deploy import CloudError

RETRY_TASKS = 2
COST_EVERY_S = 60.0  # a backfill's cost is read from the platform's metrics at most this often


class UnknownBackfill(LookupError):
    """No backfill of that id was started from this console."""


class BackfillActions(JobActions):
    """Operator requests on the backfills this console lists."""

    cost_between: Callable[[datetime, datetime], CostReport | None]  # MetricsViews'

    def backfills(self, limit: int = 20) -> list[BackfillView]:
        """What the Backfills view shows: each backfill from its destination, with the
        service's cost while it ran (read again at most every COST_EVERY_S)."""
        return [self._priced(view) for view in backfill_views(self.store, limit)]

    def _priced(self, view: BackfillView) -> BackfillView:
        if view.status is None:
            return view
        costs: dict[str, tuple[float, CostReport | None]] = self.__dict__.setdefault(
            "_backfill_costs", {}
        )
        key = view.record.backfill_id
        known = costs.get(key)
        if known is None or time.monotonic() - known[0] > COST_EVERY_S:
            start, end = (datetime.fromtimestamp(t, UTC) for t in view.window)
            try:
                known = (time.monotonic(), self.cost_between(start, end))
            except CloudError:  # metrics unreadable now: the view shows no cost, not an error
                known = (time.monotonic(), None)
            costs[key] = known
        return replace(view, cost=known[1])

    def backfill_record(self, backfill_id: str) -> BackfillRecord:
        for record in recorded_backfills(self.store):
            if record.backfill_id == backfill_id:
                return record
        raise UnknownBackfill(f"no backfill {backfill_id} was started from this console")

    def cancel_backfill(self, backfill_id: str, *, identity: Identity | None = None) -> None:
        """Stop every task of the backfill at its next document (those in flight finish)."""
        record = self.backfill_record(backfill_id)
        self.act(
            identity,
            "cancel backfill",
            f"backfill {backfill_id}",
            lambda actor: request_cancel(location(record.dest), backfill_id, actor=actor),
            lambda _: "cancel requested: its tasks stop at their next document",
        )

    def retry_backfill(
        self,
        backfill_id: str,
        *,
        identity: Identity | None = None,
        tasks: int = RETRY_TASKS,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """A new backfill of the failed documents, run by `tasks` local processes; its id."""
        record = self.backfill_record(backfill_id)

        def retry(actor: str) -> str:
            manifest = freeze_retry(location(record.dest), backfill_id)
            where = f"{tasks} local tasks, retry of {backfill_id}"
            record_backfill(self.store, manifest, actor=actor, where=where)
            self._start_tasks(record.dest, manifest.backfill_id, tasks, env)
            return manifest.backfill_id

        return self.act(
            identity,
            "retry backfill",
            f"backfill {backfill_id}",
            retry,
            lambda new_id: f"failed documents retried as backfill {new_id}",
        )

    def open_backfill_document(
        self, backfill_id: str, document: str, *, identity: Identity | None = None
    ) -> int:
        """A job of this one document of the backfill, read from its source; its id."""
        record = self.backfill_record(backfill_id)
        manifest = load(location(record.dest), backfill_id)
        [entry] = [e for e in manifest.entries if e.name == document] or [None]
        if entry is None:
            raise UnknownBackfill(f"backfill {backfill_id} has no document {document}")
        self.authorise(identity, "start job", f"{document} of backfill {backfill_id}")
        data = location(manifest.source).read(entry.name, entry.generation)
        upload = NewDocument(posixpath.basename(entry.name), data)
        return self.start_job([upload], identity=identity, name=f"{document} ({backfill_id})")

    def _start_tasks(
        self, dest: str, backfill_id: str, tasks: int, env: Mapping[str, str] | None
    ) -> None:
        """`python -m console.backfill tasks` in its own session (it outlives a page run and
        a console restart), reading pages from this console's service."""
        child_env = {
            **(os.environ if env is None else env),
            "LIGHTONOCR_SERVICE_URL": self.platform.service_url,
        }
        command = [sys.executable, "-m", "console.backfill", "tasks", dest, "--id", backfill_id]
        process = subprocess.Popen(
            [*command, "--local-tasks", str(tasks)],
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        threading.Thread(target=process.wait, name="backfill-retry", daemon=True).start()
