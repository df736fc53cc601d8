"""Review tests seed jobs the way the runner leaves them: documents opened, pages saved by
the ledger with their confidence, doubtful words and re-run reason."""

from __future__ import annotations

from dataclasses import dataclass

from console._store import Store
from console.jobs import DocumentState, JobStore
from console.jobs._ledger import JobLedger
from ocr_core import ConfidenceSpan, PageResult
from tests.console.jobs.conftest import make_pdf, submit


@dataclass(frozen=True)
class Seed:
    text: str
    confidence: float | None = 0.99
    doubtful: tuple[str, ...] = ()
    rerun: str | None = None


def seed_job(
    store: Store, *pages: Seed, revision: str = "rev-1", filename: str = "scan.pdf"
) -> int:
    """A finished job of one document whose pages were read as `pages` say."""
    jobs = JobStore(store)
    job_id = submit(jobs, (filename, make_pdf(len(pages))))
    (document,) = jobs.documents(job_id)
    ledger = JobLedger(store)
    ledger.set_document(document.id, DocumentState.OPENED, len(pages))
    for index, seed in enumerate(pages):
        spans = tuple(
            ConfidenceSpan(seed.text.index(w), seed.text.index(w) + len(w), w, 0.2)
            for w in seed.doubtful
        )
        result = PageResult(
            index=index,
            text=seed.text,
            confidence=seed.confidence,
            low_confidence=spans,
            rerun_reason=seed.rerun,
            width=300,
            height=400,
        )
        ledger.save_page(
            job_id, document.id, result, request_id=None, revision=revision, started_at=0.0
        )
    return job_id
