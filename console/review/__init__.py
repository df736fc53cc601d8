"""Review and correction: the pages the model doubts go to a person, and what they fix
becomes the page's truth (versions kept), used by the exports, golden sets and quality."""

from console.review._models import (
    APPROVED,
    CORRECTED,
    RESTORED,
    PageRef,
    QueueEntry,
    ReviewError,
    ReviewSettings,
    StaleVersion,
    Truth,
)
from console.review._queue import QueueFilter, QueueSummary, summary
from console.review._store import ReviewStore

__all__ = [
    "APPROVED",
    "CORRECTED",
    "RESTORED",
    "PageRef",
    "QueueEntry",
    "QueueFilter",
    "QueueSummary",
    "ReviewError",
    "ReviewSettings",
    "ReviewStore",
    "StaleVersion",
    "Truth",
    "summary",
]
