"""The console's one door: every action of a page, a CLI or the worker goes through
`Operations`, which authorises it by role and writes its audit row (see `_door`). What the
pages read of the workers (their beats, their breaker, their problems) is read here too: the
UI never imports the worker."""

from console.service._door import ACTIONS
from console.service._operations import (
    THRESHOLDS,
    AuditRecord,
    Operations,
    ThresholdBreach,
    WarmUpRecord,
)
from console.service._workers import WorkerBeat, live_workers, worker_breaker, worker_problems

__all__ = [
    "ACTIONS",
    "THRESHOLDS",
    "AuditRecord",
    "Operations",
    "ThresholdBreach",
    "WarmUpRecord",
    "WorkerBeat",
    "live_workers",
    "worker_breaker",
    "worker_problems",
]
