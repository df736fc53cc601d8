"""A job's pages scored against their references: what the page view and the job show.

Scores are `ocr_core.quality`'s (its one normalisation). A page gets a score only when it
was read and its reference has text; otherwise the reason is given instead, so a failed
page or an empty reference reads as such rather than as a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean

import pandas as pd
import streamlit as st

from console._references import coverage_note
from console.jobs import WHOLE_DOCUMENT, DocumentState, JobDocument, Reference, StoredPage
from ocr_core import PageResult
from ocr_core.quality import ORDER_MIN_CER, ORDER_SHARE, DiffSpan, TextScore, normalise, word_diff
from ocr_core.quality import score as text_score

WHOLE_NOTE = (
    "The reference ({origin}) has no page breaks, so it covers the whole document: its score "
    "is in the job's scores. Separate its pages with a form feed or a line `--- page N ---` "
    "to score each page, or paste this page's text below."
)
SCORE_COLUMNS = [
    "document",
    "page",
    "CER",
    "WER",
    "order-free CER",
    "word precision",
    "word recall",
    "note",
    "reference",
]
# Said beside a CER that is mostly the order the text was read in, not misread words.
MOSTLY_ORDER = "mostly reading order"


@dataclass(frozen=True, slots=True)
class PageScore:
    measures: TextScore
    diff: list[DiffSpan]

    @property
    def cer(self) -> float:
        return self.measures.cer

    @property
    def wer(self) -> float:
        return self.measures.wer


@dataclass(frozen=True, slots=True)
class PageTruth:
    """A page's reference and its score, or why it has none (`message`)."""

    reference: Reference | None = None
    score: PageScore | None = None
    message: str | None = None


def score(text: str, reference: str, *, ignore_case: bool = False) -> PageScore:
    return PageScore(
        text_score(text, reference, ignore_case=ignore_case),
        word_diff(text, reference, ignore_case=ignore_case),
    )


def reference_for_page(
    references: Sequence[Reference], document: JobDocument, index: int
) -> Reference | None:
    """This page's reference: its own, else a whole-document one of a one-page document."""
    mine = {r.page_index: r for r in references if r.document_id == document.id}
    if index in mine:
        return mine[index]
    whole = mine.get(WHOLE_DOCUMENT)
    return whole if whole is not None and document.page_count == 1 else None


def page_truth(
    references: Sequence[Reference],
    document: JobDocument,
    result: PageResult,
    stored: bool,
    *,
    ignore_case: bool = False,
) -> PageTruth:
    reference = reference_for_page(references, document, result.index)
    if reference is None:
        whole = [
            r for r in references if r.document_id == document.id and r.page_index == WHOLE_DOCUMENT
        ]
        return PageTruth(message=WHOLE_NOTE.format(origin=whole[0].origin) if whole else None)
    if not normalise(reference.text):
        message = "The reference for this page is empty: there is nothing to score against."
    elif not stored:
        message = "Not read yet: the page is scored once it is read."
    elif not result.ok:
        message = "This page failed, so it has no score: retry it to score it."
    else:
        return PageTruth(reference, score(result.text, reference.text, ignore_case=ignore_case))
    return PageTruth(reference, message=message)


@dataclass(frozen=True, slots=True)
class JobScores:
    """Every scored page (worst CER first), the means, and what could not be scored."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def mean_cer(self) -> float | None:
        return fmean(self.table["CER"]) if len(self.table) else None

    @property
    def mean_wer(self) -> float | None:
        return fmean(self.table["WER"]) if len(self.table) else None

    @property
    def mean_order_free_cer(self) -> float | None:
        return fmean(self.table["order-free CER"]) if len(self.table) else None

    @property
    def mostly_reading_order(self) -> bool:
        """Over the job, the CER is mostly the order the pages were read in."""
        cer, free = self.mean_cer, self.mean_order_free_cer
        return (
            cer is not None
            and free is not None
            and cer >= ORDER_MIN_CER
            and (free <= cer * ORDER_SHARE)
        )


def job_scores(
    documents: Sequence[JobDocument],
    pages: Sequence[StoredPage],
    references: Sequence[Reference],
    *,
    ignore_case: bool = False,
) -> JobScores:
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    results = {(p.document_id, p.index): p.result for p in pages}
    for document in documents:
        mine = [r for r in references if r.document_id == document.id]
        if not mine:
            continue
        if document.state is DocumentState.PENDING:
            notes.append(f"{document.filename} is not opened yet: scored once it is read.")
            continue
        if document.state is not DocumentState.OPENED:
            notes.append(f"{document.filename} has a reference but could not be read.")
            continue
        split = [r for r in mine if r.page_index != WHOLE_DOCUMENT]
        origins = {r.origin for r in split if not r.origin.startswith("pasted")}
        if origins and (note := coverage_note(len(split), document.page_count)):
            notes.append(f"{document.filename}: {note}.")
        whole = [r for r in mine if r.page_index == WHOLE_DOCUMENT]
        if whole and document.page_count > 1:
            read = [results.get((document.id, i)) for i in range(document.page_count)]
            if all(r is not None and r.ok for r in read):
                text = "\n\n".join(r.text for r in read if r is not None)
                row = _row(document, "all", text, whole[0], ignore_case, notes)
                rows += [row] if row else []
            else:
                notes.append(
                    f"{document.filename}: the whole-document reference is scored once "
                    "every page is read."
                )
        for index in range(document.page_count):
            reference = reference_for_page(mine, document, index)
            result = results.get((document.id, index))
            if reference is None:
                continue
            if result is None or not result.ok:
                why = "not read yet" if result is None else "failed"
                notes.append(f"{document.filename} page {index + 1} {why}: not scored.")
                continue
            row = _row(document, index + 1, result.text, reference, ignore_case, notes)
            rows += [row] if row else []
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    table = table.sort_values("CER", ascending=False, kind="stable").reset_index(drop=True)
    return JobScores(table, notes)


def _row(
    document: JobDocument,
    page: int | str,
    text: str,
    reference: Reference,
    ignore_case: bool,
    notes: list[str],
) -> dict[str, object] | None:
    where = f"{document.filename} page {page}" if page != "all" else document.filename
    if not normalise(reference.text):
        notes.append(f"{where}: the reference is empty, not scored.")
        return None
    found = text_score(text, reference.text, ignore_case=ignore_case)
    return {
        "document": f"{document.position + 1}. {document.filename}",
        "page": str(page),
        "CER": round(found.cer, 4),
        "WER": round(found.wer, 4),
        "order-free CER": round(found.order_free_cer, 4),
        "word precision": round(found.word_precision, 4),
        "word recall": round(found.word_recall, 4),
        "note": MOSTLY_ORDER if found.mostly_reading_order else "",
        "reference": reference.origin,
    }


def measures(found: TextScore) -> None:
    """A text's scores as metrics: in order, order-free, and whether the CER is the order.
    Three to a row: the page panel is half the page wide, and five in a row cut every figure
    short ("13.…")."""
    columns = [*st.columns(3), *st.columns(3)]
    columns[0].metric("CER", f"{found.cer:.1%}", help="Character error rate, in reading order")
    columns[1].metric("WER", f"{found.wer:.1%}", help="Word error rate, in reading order")
    columns[2].metric(
        "Order-free CER",
        f"{found.order_free_cer:.1%}",
        help="The CER of both texts' words sorted: misread words count, their order does not",
    )
    columns[3].metric(
        "Word precision", f"{found.word_precision:.1%}", help="Read words that are on the page"
    )
    columns[4].metric(
        "Word recall", f"{found.word_recall:.1%}", help="The page's words that were read"
    )
    if found.mostly_reading_order:
        st.caption(
            f"**{MOSTLY_ORDER}**: the words are read well; most of the CER is the order "
            "the text was read in (columns, boxes, captions)."
        )
