"""What a golden set is and what running it found: plain dataclasses, no storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocr_core import OCRError
from ocr_core.quality import ORDER_MIN_CER, ORDER_SHARE

DEFAULT_MARGIN = 0.02
# A run's settings as people read them, in this order (keys of `GoldenRun.settings`).
SETTING_NAMES = {
    "revision": "revision",
    "model": "model",
    "longest_side_sent": "page size sent (longest side, px)",
    "longest_side": "longest side setting",
    "server_page_size": "follows the server's page size",
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max tokens",
    "rerun_runaway": "re-runs runaway answers",
    "set_contents": "the set's contents",
}


class GoldenSetError(OCRError):
    """A golden set cannot be registered, found or run; the message says which and why."""


class UnsafeArchive(GoldenSetError):
    """An uploaded zip was refused before extraction (too many entries, too big, bad names)."""


@dataclass(frozen=True, slots=True)
class GoldenDocument:
    """A document and the text it says; `expected_pages` is the text split on form feeds."""

    filename: str
    data: bytes = field(repr=False)
    expected_text: str
    text_filename: str

    @property
    def expected_pages(self) -> list[str]:
        return self.expected_text.split("\f")


@dataclass(frozen=True, slots=True)
class LoadedSet:
    """Documents paired with their texts, and a sentence for everything left out."""

    documents: list[GoldenDocument]
    problems: list[str]


@dataclass(frozen=True, slots=True)
class GoldenSet:
    id: int
    name: str
    created_at: datetime
    actor: str
    source: str
    documents: int


@dataclass(frozen=True, slots=True)
class DocumentScore:
    """One document's score in one run; `cer`/`wer` are None when it could not be read."""

    filename: str
    cer: float | None
    wer: float | None
    pages: int
    pages_failed: int
    error: str | None = None
    previous_cer: float | None = None
    regression: bool = False
    # Order-free (ocr_core.quality.score): None when not scored, or scored before they existed.
    order_free_cer: float | None = None
    word_precision: float | None = None
    word_recall: float | None = None

    @property
    def mostly_reading_order(self) -> bool:
        """The words are mostly right: most of the CER is the order they were read in."""
        if self.cer is None or self.order_free_cer is None:
            return False
        return self.cer >= ORDER_MIN_CER and self.order_free_cer <= self.cer * ORDER_SHARE

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.filename,
            "cer": self.cer,
            "wer": self.wer,
            "order_free_cer": self.order_free_cer,
            "word_precision": self.word_precision,
            "word_recall": self.word_recall,
            "mostly_reading_order": self.mostly_reading_order,
            "pages": self.pages,
            "pages_failed": self.pages_failed,
            "error": self.error,
            "previous_cer": self.previous_cer,
            "regression": self.regression,
        }


@dataclass(frozen=True, slots=True)
class GoldenRun:
    """One run of a set against one service: scores appear when its job has finished."""

    id: int
    set_name: str
    job_id: int
    service_url: str
    revision: str | None
    actor: str
    started_at: datetime
    margin: float
    finished_at: datetime | None = None
    scores: list[DocumentScore] = field(default_factory=list)
    error: str | None = None
    # What shaped the text (SETTING_NAMES); {} for runs recorded before it was kept.
    settings: dict[str, Any] = field(default_factory=dict)

    def changes_from(self, older: GoldenRun) -> list[str]:
        """What differs from `older`'s settings, "max tokens 4096 -> 2048" each (a setting
        one of them did not record is left out: unknown is not a change)."""
        changed = []
        for key, label in SETTING_NAMES.items():
            if key in self.settings and key in older.settings:
                before, now = older.settings[key], self.settings[key]
                if before != now:
                    changed.append(f"{label} {before} -> {now}")
        return changed

    @property
    def scored(self) -> bool:
        return self.finished_at is not None

    @property
    def incomplete(self) -> bool:
        """A finished run that could not measure everything: a document or a page was not
        read, or the run itself failed. It passes no gate and is no baseline."""
        if not self.scored:
            return False
        unread = any(s.pages_failed or s.cer is None for s in self.scores)
        return bool(self.error) or not self.scores or unread

    @property
    def problems(self) -> list[str]:
        """Why the run is incomplete, a sentence per document (and the run's own error)."""
        found = [f"{s.filename}: {s.error}" for s in self.scores if s.error]
        if self.error:
            found.append(self.error)
        if self.scored and not self.scores and not self.error:
            found.append("no document was scored")
        return found

    @property
    def pages_read(self) -> tuple[int, int]:
        """(pages read, pages in the set) over the documents that were opened."""
        total = sum(s.pages for s in self.scores)
        return total - sum(s.pages_failed for s in self.scores), total

    @property
    def regressions(self) -> list[DocumentScore]:
        return [score for score in self.scores if score.regression]

    @property
    def mean_cer(self) -> float | None:
        values = [s.cer for s in self.scores if s.cer is not None]
        return sum(values) / len(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.id,
            "set": self.set_name,
            "job": self.job_id,
            "service_url": self.service_url,
            "revision": self.revision,
            "actor": self.actor,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "margin": self.margin,
            "mean_cer": self.mean_cer,
            "complete": self.scored and not self.incomplete,
            "pages_read": self.pages_read[0],
            "pages": self.pages_read[1],
            "problems": self.problems,
            "regressions": [s.filename for s in self.regressions],
            "documents": [s.to_dict() for s in self.scores],
            "error": self.error,
            "settings": self.settings,
        }
