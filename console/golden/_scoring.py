"""A finished job's text against a golden set's expected text, and what got worse.

A document's score is over the whole document: its pages' text joined in order against the
expected text with its form feeds as line breaks, so a page the service failed counts as
missing text (its errors are in the score) rather than being left out of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.golden._models import DocumentScore, GoldenDocument, GoldenRun
from console.jobs import DocumentState, JobStore
from ocr_core import quality


def score_job(
    jobs: JobStore, job_id: int, documents: Sequence[GoldenDocument]
) -> list[DocumentScore]:
    """Per-document CER/WER of a job made from `documents` (in the same order)."""
    entries = jobs.documents(job_id)
    pages = jobs.pages(job_id)
    scores: list[DocumentScore] = []
    for golden, entry in zip(documents, entries, strict=True):
        if entry.state in (DocumentState.FAILED, DocumentState.NEEDS_PASSWORD):
            why = entry.error or entry.state.value
            scores.append(DocumentScore(golden.filename, None, None, 0, 0, why))
            continue
        own = sorted((p for p in pages if p.document_id == entry.id), key=lambda p: p.index)
        failed = sum(1 for p in own if not p.result.ok)
        missing = max(entry.page_count - len(own), 0)
        text = "\n".join(p.result.text if p.result.ok else "" for p in own)
        reference = golden.expected_text.replace("\f", "\n")
        scores.append(
            DocumentScore(
                golden.filename,
                cer=quality.cer(text, reference),
                wer=quality.wer(text, reference),
                pages=entry.page_count,
                pages_failed=failed + missing,
            )
        )
    return scores


def flag_regressions(
    scores: Sequence[DocumentScore], previous: GoldenRun | None, margin: float
) -> list[DocumentScore]:
    """Each score with the previous run's CER of the same document; a rise over `margin`
    (absolute) is a regression, and so is a document that was read before and now is not."""
    if previous is None:
        return list(scores)
    before = {score.filename: score for score in previous.scores}
    flagged = []
    for score in scores:
        earlier = before.get(score.filename)
        if earlier is None or earlier.cer is None:
            flagged.append(score)
            continue
        worse = score.cer is None or score.cer - earlier.cer > margin
        flagged.append(_with(score, earlier.cer, worse))
    return flagged


def _with(score: DocumentScore, previous_cer: float, regression: bool) -> DocumentScore:
    return DocumentScore(
        score.filename, score.cer, score.wer, score.pages, score.pages_failed, score.error,
        previous_cer, regression,
    )  # fmt: skip
