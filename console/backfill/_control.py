"""Stopping a backfill and retrying its failed documents, through its destination.

Cancel is a marker beside the manifest, `_backfill/<id>/cancel.json`: every task reads it
before taking its next document (`_task.py`), wherever it runs (local processes, Cloud Run
tasks), and stops there; the documents in flight finish. A cancelled task exits 0, so it is
not retried. A retry is a new backfill over the documents that failed (whole documents, or
pages of them), its manifest naming the one it retries (`retry_of`): its tasks read those
documents again and replace their outputs, which a first run never does.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime

from console.backfill._locations import Location
from console.backfill._manifest import Manifest, cancel_name, load
from console.backfill._status import backfill_status


class NothingToRetry(ValueError):
    """The backfill has no failed document."""


def request_cancel(dest: Location, backfill_id: str, *, actor: str) -> None:
    """Ask every task of the backfill to stop taking documents (idempotent)."""
    load(dest, backfill_id)  # a typed error for an unknown backfill, before writing anything
    record = {"by": actor, "at": time.time()}
    dest.write(cancel_name(backfill_id), json.dumps(record).encode())


def freeze_retry(dest: Location, backfill_id: str) -> Manifest:
    """A new backfill of the failed documents of `backfill_id` (same source, formats and
    destination; the listing's generations as first frozen), written once; NothingToRetry
    when none failed."""
    original = load(dest, backfill_id)
    failed = {failure.document for failure in backfill_status(dest, backfill_id).failed}
    entries = tuple(entry for entry in original.entries if entry.name in failed)
    if not entries:
        raise NothingToRetry(f"backfill {backfill_id} has no failed document to retry")
    retry = replace(
        original,
        backfill_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3),
        created_at=datetime.now(UTC).isoformat(),
        entries=entries,
        retry_of=backfill_id,
    )
    dest.write_once(f"{retry.folder}/manifest.jsonl", retry.to_jsonl())
    return retry
