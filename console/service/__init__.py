"""The console's one door: every action of a page, a CLI or the worker goes through
`Operations`, which authorises it by role and writes its audit row (see `_door`)."""

from console.service._door import ACTIONS
from console.service._operations import (
    THRESHOLDS,
    AuditRecord,
    Operations,
    ThresholdBreach,
    WarmUpRecord,
)

__all__ = [
    "ACTIONS",
    "THRESHOLDS",
    "AuditRecord",
    "Operations",
    "ThresholdBreach",
    "WarmUpRecord",
]
