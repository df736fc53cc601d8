"""Typed results. Plain dataclasses so the backend, the console and JSON exports share them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ._exceptions import OCRError


@dataclass(frozen=True, slots=True)
class ConfidenceSpan:
    """Words the model was unsure of: `text[start:end]` and its lowest token probability."""

    start: int
    end: int
    text: str
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "probability": round(self.probability, 4),
        }


@dataclass(frozen=True, slots=True)
class PageResult:
    """The outcome of one page: text, or an error that says why. Never silently missing."""

    index: int
    text: str = ""
    error: OCRError | None = None
    truncated: bool = False
    latency_s: float = 0.0
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    # "ocr" when the model read the page, "text_layer" when a digital PDF page's own text was used.
    source: str = "ocr"
    has_text_layer: bool | None = None
    width: int | None = None
    height: int | None = None
    # The X-Request-Id every attempt for this page carried (a uuid4 hex; on Cloud Run also the
    # trace id), linking the page to the service's log lines; None when nothing was sent.
    request_id: str | None = None
    # exp(mean token log-prob) when the service sent log-probs; None when it did not.
    confidence: float | None = None
    low_confidence: tuple[ConfidenceSpan, ...] = ()
    # Why the page was asked for again with other sampling ("repetition": a generation
    # loop; "empty": no text), or None. Set whichever answer was kept, so QA can see it.
    rerun_reason: str | None = None
    # Who approved or corrected the page's text in review (the text is then theirs), and
    # whether they changed it; None and False for a page as the model read it.
    reviewed_by: str | None = None
    corrected: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.index + 1,
            "index": self.index,
            "ok": self.ok,
            "text": self.text,
            "error": None if self.error is None else str(self.error),
            "error_type": None if self.error is None else type(self.error).__name__,
            "truncated": self.truncated,
            "latency_s": round(self.latency_s, 4),
            "attempts": self.attempts,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
            "source": self.source,
            "has_text_layer": self.has_text_layer,
            "width": self.width,
            "height": self.height,
            "request_id": self.request_id,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "low_confidence": [span.to_dict() for span in self.low_confidence],
            "rerun_reason": self.rerun_reason,
            "reviewed_by": self.reviewed_by,
            "corrected": self.corrected,
        }


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """Every page of a document, in page order."""

    pages: list[PageResult]
    filename: str | None = None
    wall_time_s: float = 0.0

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def ok_count(self) -> int:
        return sum(1 for p in self.pages if p.ok)

    @property
    def failed_count(self) -> int:
        return sum(1 for p in self.pages if not p.ok)

    @property
    def truncated_count(self) -> int:
        return sum(1 for p in self.pages if p.truncated)

    @property
    def ok(self) -> bool:
        return self.failed_count == 0

    @property
    def prompt_tokens(self) -> int:
        return sum(p.prompt_tokens for p in self.pages)

    @property
    def completion_tokens(self) -> int:
        return sum(p.completion_tokens for p in self.pages)

    @property
    def total_latency_s(self) -> float:
        return sum(p.latency_s for p in self.pages)

    @property
    def text(self) -> str:
        """The document's text, pages separated by a blank line; failed pages contribute nothing."""
        return "\n\n".join(p.text for p in self.pages if p.ok and p.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "page_count": self.page_count,
            "ok_count": self.ok_count,
            "failed_count": self.failed_count,
            "truncated_count": self.truncated_count,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "wall_time_s": round(self.wall_time_s, 4),
            "pages": [p.to_dict() for p in self.pages],
        }


@dataclass(frozen=True, slots=True)
class WarmUpReport:
    """What one warm-up measured: whether the model answered, after how long and how many
    health probes. It decides nothing: whether that time was a cold start is the caller's call,
    helped by `was_ready` (the very first probe already found the model answering).

    `error` is the typed reason it is not ready (an `AuthError` for refused credentials, a
    `NotFound` for a model the server does not serve, ...), None when ready.
    """

    ready: bool
    seconds: float
    attempts: int
    error: OCRError | None = None
    url: str | None = None
    was_ready: bool = False


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    state: BreakerState
    consecutive_failures: int
    # Seconds until an open breaker lets a probe through; 0 unless open.
    retry_in_s: float = 0.0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of a page's text as the service streams it."""

    page_index: int
    delta: str


__all__ = [
    "BreakerSnapshot",
    "BreakerState",
    "DocumentResult",
    "PageResult",
    "StreamChunk",
    "WarmUpReport",
]
