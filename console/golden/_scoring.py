"""A finished job's text against a golden set's expected text, and what got worse.

A document's score is over the pages that were read: their text joined in order against the
expected text of the same pages (split on its form feeds). A page that was not read is not
scored as empty text: it makes the run incomplete, which no gate passes and no later run is
compared with. A text without page breaks scores a document only when every page was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from console.golden._models import DocumentScore, GoldenDocument, GoldenRun
from console.jobs import DocumentState, JobStore
from ocr_core import quality


def score_job(
    jobs: JobStore, job_id: int, documents: Sequence[GoldenDocument]
) -> list[DocumentScore]:
    """Per-document CER/WER of a job made from `documents` (in the same order), over the pages
    that were read; a document with a page not read carries why in `error` (and makes its
    run incomplete)."""
    entries = jobs.documents(job_id)
    pages = jobs.pages(job_id)
    scores: list[DocumentScore] = []
    for golden, entry in zip(documents, entries, strict=True):
        if entry.state is not DocumentState.OPENED:
            why = entry.error or f"not opened ({entry.state.value})"
            scores.append(DocumentScore(golden.filename, None, None, entry.page_count, 0, why))
            continue
        stored = {p.index: p.result for p in pages if p.document_id == entry.id}
        read = {i: r.text for i, r in stored.items() if r.ok}
        unread = [
            _why_unread(i, str(stored[i].error) if i in stored else "never read")
            for i in range(entry.page_count)
            if i not in read
        ]
        expected = golden.expected_pages
        if len(expected) == entry.page_count:  # page by page: score what was read
            text = "\n".join(read[i] for i in sorted(read))
            reference = "\n".join(expected[i] for i in sorted(read))
        elif not unread:  # one text for the whole document
            text, reference = "\n".join(read[i] for i in sorted(read)), "\n".join(expected)
        else:
            text = reference = ""
        error = None
        if unread:
            error = f"{len(unread)} of {entry.page_count} pages not read: " + "; ".join(unread)
        measurable = bool(read) and bool(quality.normalise(reference))
        found = quality.score(text, reference) if measurable else None
        scores.append(
            DocumentScore(
                golden.filename,
                cer=found.cer if found else None,
                wer=found.wer if found else None,
                pages=entry.page_count,
                pages_failed=len(unread),
                error=error,
                order_free_cer=found.order_free_cer if found else None,
                word_precision=found.word_precision if found else None,
                word_recall=found.word_recall if found else None,
            )
        )
    return scores


def _why_unread(index: int, why: str) -> str:
    """`page N: why`, once (a page's error may already name its page)."""
    page = f"page {index + 1}"
    return why if why.startswith(page) else f"{page}: {why}"


def got_worse(before: float | None, after: float | None, margin: float) -> bool:
    """THE regression rule, for golden-set history and the canary's gate alike: a document
    not read now (no CER) is worse, whatever it was; one read before is worse when its CER
    rose by more than `margin` (absolute); one never measured before cannot have regressed."""
    return after is None or (before is not None and after > before + margin)


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
        earlier_cer = earlier.cer if earlier is not None else None
        worse = got_worse(earlier_cer, score.cer, margin)
        flagged.append(replace(score, previous_cer=earlier_cer, regression=worse))
    return flagged


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """One document's CER from the serving revision's run to the candidate's."""

    filename: str
    old_cer: float | None
    new_cer: float | None
    regression: bool


def show_cer(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def judge(
    run: GoldenRun | None, baseline: GoldenRun | None, margin: float
) -> tuple[list[DocumentChange], list[str]]:
    """The canary's verdict by the same rule as the history's (`got_worse`): per document
    CER old -> new, and every reason not to promote. A gate that could not measure refuses:
    no run, an incomplete run, no baseline, a document the baseline read and this run lost."""
    if run is None:
        return [], ["the golden set did not run"]
    refusals = [f"incomplete golden run: {p}" for p in run.problems] if run.incomplete else []
    if run.incomplete and not refusals:
        refusals.append("incomplete golden run")
    if baseline is None:
        return [], [*refusals, "no complete golden run of the serving revision to compare with"]
    old = {s.filename: s.cer for s in baseline.scores}
    changes = []
    for score in run.scores:
        before = old.get(score.filename)
        worse = got_worse(before, score.cer, margin)
        changes.append(DocumentChange(score.filename, before, score.cer, worse))
        if worse:
            refusals.append(f"{score.filename}: CER {show_cer(before)} -> {show_cer(score.cer)}")
    missing = sorted(set(old) - {s.filename for s in run.scores})
    refusals += [f"{name}: in the baseline, not in this run" for name in missing]
    return changes, refusals
