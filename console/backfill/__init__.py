"""Backfills: OCR a whole bucket or folder, outputs written beside each input's name.

A backfill freezes its source's listing into a manifest, cuts it into shards, and runs
tasks that each take their shards (`_task`): on Cloud Run Jobs (`python -m deploy backfill`)
or locally as N processes (`python -m console.backfill run ... --local-tasks N`). What is
done is read back from the destination alone (`_status`).
"""

from console.backfill._locations import Listed, Location, location
from console.backfill._manifest import Manifest, freeze, load, manifests
from console.backfill._status import BackfillStatus, backfill_status

__all__ = [
    "BackfillStatus",
    "Listed",
    "Location",
    "Manifest",
    "backfill_status",
    "freeze",
    "load",
    "location",
    "manifests",
]
