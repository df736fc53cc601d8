"""What review reads back: a queued page, a truth version, the queue's settings, and the
refusal of a save over a newer version."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocr_core import OCRError

# Why a page is in the queue, as the queue and the quality figures name it.
LOW_CONFIDENCE = "low confidence"
DOUBTFUL_WORDS = "doubtful words"
RERUN = "re-run"
READING_ORDER = "reading order"  # the text steps back through the page's layout order
SENT = "sent by a person"
SAMPLED = "sample of confident pages"
# The reasons that mean "the model doubted this page" (the threshold's catch), not a person
# or the sample.
DOUBT_REASONS = frozenset({LOW_CONFIDENCE, DOUBTFUL_WORDS, RERUN, READING_ORDER})

APPROVED = "approved"
CORRECTED = "corrected"
RESTORED = "restored"

THRESHOLD_SETTING = "review.threshold"
SAMPLE_RATE_SETTING = "review.sample_rate"


class ReviewError(OCRError):
    """A review request that cannot be done: no such page, no such version, bad input."""


class StaleVersion(ReviewError):
    """A save on top of a version that is no longer the newest: someone saved in between."""

    def __init__(self, base: int, newest: Truth, mine: str) -> None:
        self.base = base
        self.newest = newest
        self.mine = mine
        self.difference = "".join(
            difflib.unified_diff(
                newest.text.splitlines(keepends=True),
                mine.splitlines(keepends=True),
                f"version {newest.version} by {newest.actor}",
                "your text",
            )
        )
        super().__init__(
            f"version {newest.version} was saved by {newest.actor} after the version "
            f"{base} you started from: your text was not saved"
        )


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """Pages under `threshold` confidence enter the queue; `sample_rate` of the others too,
    so the threshold can be checked against what people find."""

    threshold: float = 0.9
    sample_rate: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ReviewError(f"the threshold must be between 0 and 1, not {self.threshold}")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ReviewError(f"the sample rate must be between 0 and 1, not {self.sample_rate}")


@dataclass(frozen=True, slots=True)
class PageRef:
    """A page as a person names it: the job and its page number from 1 across the job's
    documents in order, with where it is stored."""

    job_id: int
    number: int
    document_id: int
    page_index: int
    filename: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    page: PageRef
    job_name: str
    revision: str | None
    confidence: float | None
    doubtful: int
    reasons: tuple[str, ...]
    risk: float
    waiting_since: datetime

    @property
    def document_type(self) -> str:
        """The document's kind by its extension ("pdf", "png"), for the queue's filter."""
        stem, dot, ext = self.page.filename.rpartition(".")
        return ext.lower() if dot and stem else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.page.job_id,
            "page": self.page.number,
            "document": self.page.filename,
            "job_name": self.job_name,
            "revision": self.revision,
            "confidence": self.confidence,
            "doubtful_words": self.doubtful,
            "reasons": list(self.reasons),
            "risk": round(self.risk, 4),
            "waiting_since": self.waiting_since.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Truth:
    """One version of a page's truth."""

    job_id: int
    document_id: int
    page_index: int
    version: int
    text: str
    kind: str
    actor: str
    at: datetime
    revision: str | None
    model_text: str
    confidence: float | None
    reasons: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """The truth differs from what the model read."""
        return self.text != self.model_text

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "revision": self.revision,
            "changed": self.changed,
            "text": self.text,
        }
