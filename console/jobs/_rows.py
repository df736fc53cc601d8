"""Rows <-> results: how a page result and its error are kept in the job tables.

A page's text is stored and read back bounded: at most `MAX_PAGE_TEXT_CHARS` characters
(what the card's 4,096 tokens can hold, `ocr_core.answer_text_limit`). Longer text (a text
layer, a client allowed more tokens, a row written before the bound) keeps its head and
becomes the page's `AnswerTooLarge`, so no store, export or page view holds more. Every
string is made valid for the database first: a lone surrogate (no UTF-8 writer takes one)
or a NUL (PostgreSQL refuses it in text) becomes U+FFFD.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

import ocr_core
from console._store import from_ts
from console.jobs._models import StoredPage
from ocr_core import (
    AnswerTooLarge,
    ConfidenceSpan,
    OCRError,
    PageResult,
    Sampling,
    answer_text_limit,
    valid_text,
)

MAX_PAGE_TEXT_CHARS = answer_text_limit(4096)


def storable(text: str) -> str:
    """`text` as the database takes it: valid UTF-8 without NUL."""
    return valid_text(text).replace("\x00", "\ufffd")


def bounded_text(column: Any) -> Any:
    """The text column read back bounded: one character past the bound says it was longer."""
    return sa.func.substr(column, 1, MAX_PAGE_TEXT_CHARS + 1).label("text")


def _bounded(text: str, error: OCRError | None, index: int) -> tuple[str, OCRError | None]:
    """(text, error) with text past the bound cut to it and failed as too large."""
    if len(text) <= MAX_PAGE_TEXT_CHARS:
        return text, error
    too_large = AnswerTooLarge(
        f"the page's text is over {MAX_PAGE_TEXT_CHARS:,} characters, more than 4,096 tokens "
        f"can hold: the console keeps the first {MAX_PAGE_TEXT_CHARS:,}"
    )
    return text[:MAX_PAGE_TEXT_CHARS], error or too_large.on_page(index)


def now_ts() -> float:
    return datetime.now(UTC).timestamp()


def error_from_row(message: str, type_name: str | None, index: int) -> OCRError:
    """The stored error as its own type again, so exports and views say what it was."""
    cls = getattr(ocr_core, type_name or "", None)
    if isinstance(cls, type) and issubclass(cls, OCRError):
        try:
            return cls(message, page_index=index)
        except TypeError:  # a type that needs more than a message
            pass
    return OCRError(message, page_index=index)


def spans_from_json(text: str | None) -> tuple[ConfidenceSpan, ...]:
    """The stored doubtful words; none for pages stored before confidence was kept."""
    if not text:
        return ()
    return tuple(
        ConfidenceSpan(span["start"], span["end"], span["text"], span["probability"])
        for span in json.loads(text)
    )


def sampling_from_json(text: str | None) -> Sampling | None:
    return Sampling(**json.loads(text)) if text else None


def sampling_to_json(sampling: Sampling | None) -> str | None:
    return None if sampling is None else json.dumps(sampling.to_dict())


def page_from_row(row: Any) -> StoredPage:
    m = row._mapping
    index = m["page_index"]
    error = None if m["error"] is None else error_from_row(m["error"], m["error_type"], index)
    text, error = _bounded(m["text"], error, index)
    result = PageResult(
        index=index,
        text=text,
        error=error,
        truncated=m["truncated"],
        latency_s=m["latency_s"],
        attempts=m["attempts"],
        prompt_tokens=m["prompt_tokens"],
        completion_tokens=m["completion_tokens"],
        finish_reason=m["finish_reason"],
        source=m["source"],
        has_text_layer=m["has_text_layer"],
        width=m["width"],
        height=m["height"],
        request_id=m["request_id"],
        confidence=m["confidence"],
        low_confidence=spans_from_json(m["low_confidence"]),
        rerun_reason=m["rerun_reason"],
    )
    return StoredPage(
        job_id=m["job_id"],
        document_id=m["document_id"],
        result=result,
        request_id=m["request_id"],
        revision=m["revision"],
        started_at=from_ts(m["started_at"]),
        finished_at=from_ts(m["finished_at"]),
        retry=m["retry"],
        sampling=sampling_from_json(m["sampling"]),
    )


def page_row(
    result: PageResult,
    request_id: str | None,
    revision: str | None,
    started: float,
    sampling: Sampling | None = None,
) -> dict[str, Any]:
    text, error = _bounded(result.text, result.error, result.index)
    return {
        "text": storable(text),
        "truncated": result.truncated,
        "latency_s": result.latency_s,
        "attempts": result.attempts,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "finish_reason": result.finish_reason,
        "source": result.source,
        "has_text_layer": result.has_text_layer,
        "width": result.width,
        "height": result.height,
        "error": None if error is None else storable(getattr(error, "message", str(error))),
        "error_type": None if error is None else type(error).__name__,
        "request_id": request_id,
        "revision": revision,
        "started_at": started,
        "confidence": result.confidence,
        "rerun_reason": result.rerun_reason,
        "low_confidence": json.dumps([span.to_dict() for span in result.low_confidence]),
        "finished_at": now_ts(),
        "retry": False,
        "sampling": sampling_to_json(sampling),
        "retry_sampling": None,
    }
