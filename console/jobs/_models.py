"""What a job is, as the workbench, the runner and the CLI read it back from the store."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocr_core import PageResult, Sampling


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    # Every page has a result; some may be failed pages (see pages_failed).
    DONE = "done"
    CANCELLED = "cancelled"
    # Nothing could be read: every document failed to open or every page failed.
    FAILED = "failed"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
# What a finished job whose every page has a result, but some of them (or whole documents)
# failed, is called wherever a person reads it: not a plain "done" (issue 35, item 3).
DONE_WITH_FAILURES = "done with failures"


class DocumentState(enum.StrEnum):
    PENDING = "pending"  # not opened yet
    OPENED = "opened"  # page count known
    NEEDS_PASSWORD = "needs_password"
    FAILED = "failed"  # could not be opened; `error` says why


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    name: str
    actor: str
    created_at: datetime
    status: JobStatus
    service_url: str
    revision: str | None
    use_text_layer: bool
    documents: int
    pages_total: int
    pages_done: int
    pages_failed: int
    # Seconds spent running, summed over every run (a resumed job adds its new run).
    elapsed_s: float
    finished_at: datetime | None = None
    cancel_requested: bool = False
    error: str | None = None
    # Pages whose answer looped or came back empty and were asked again (PageResult.rerun_reason).
    pages_rerun: int = 0
    # Whether the worker locates each page's words, and how many it located or could not.
    locate_words: bool = False
    pages_located: int = 0
    pages_unlocated: int = 0
    # Documents that could not be opened (corrupt, wrong type) or still wait for a password.
    documents_failed: int = 0
    # Not a person's upload: "golden set" for a golden run's job.
    purpose: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def has_failures(self) -> bool:
        """A page or a whole document of this job has no text, only an error."""
        return bool(self.pages_failed or self.documents_failed)

    @property
    def outcome(self) -> str:
        """The status as a person should read it: a DONE job with failures is not "done"."""
        if self.status is JobStatus.DONE and self.has_failures:
            return DONE_WITH_FAILURES
        return self.status.value

    @property
    def words_pending(self) -> int:
        """Pages read whose words the worker has not been to yet (0 when none were asked):
        a job is done when its text is, and its words follow."""
        if not self.locate_words:
            return 0
        return max(self.pages_done - self.pages_located - self.pages_unlocated, 0)

    @property
    def words_ready(self) -> bool:
        """Whether what needs the words (overlay, searchable PDF, hOCR, ALTO) is complete:
        the text is done and every read page has been located (or says why it could not)."""
        return self.locate_words and not self.active and self.words_pending == 0

    @property
    def words_progress(self) -> str:
        """ "locating, k of n pages" while the words follow the text; "" otherwise."""
        if not self.locate_words or self.words_ready:
            return ""
        return f"locating words, {self.pages_done - self.words_pending} of {self.pages_done} pages"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "actor": self.actor,
            "status": self.status.value,
            "outcome": self.outcome,
            "pages_total": self.pages_total,
            "pages_done": self.pages_done,
            "pages_failed": self.pages_failed,
            "pages_rerun": self.pages_rerun,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "elapsed_s": round(self.elapsed_s, 3),
            "documents": self.documents,
            "documents_failed": self.documents_failed,
            "purpose": self.purpose,
            "service_url": self.service_url,
            "revision": self.revision,
            "error": self.error,
            "locate_words": self.locate_words,
            "pages_located": self.pages_located,
            "pages_unlocated": self.pages_unlocated,
            "words_ready": self.words_ready,
        }


@dataclass(frozen=True, slots=True)
class JobDocument:
    """One uploaded file of a job; two uploads with one name are two documents."""

    id: int
    job_id: int
    position: int
    filename: str
    size: int
    state: DocumentState
    page_count: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A page's result as written when it finished, with where and when it was read."""

    job_id: int
    document_id: int
    result: PageResult
    request_id: str | None
    revision: str | None
    started_at: datetime
    finished_at: datetime
    # Asked to be read again (retry or resume); the old result stays until the new one lands.
    retry: bool = False
    # The sampling a person chose for this result (None: the client's settings).
    sampling: Sampling | None = None

    @property
    def index(self) -> int:
        return self.result.index

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            **self.result.to_dict(),
            "request_id": self.request_id,
            "revision": self.revision,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "sampling": None if self.sampling is None else self.sampling.to_dict(),
        }
