"""Pages scored against references: the worst first, means, and why a page has no score."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.jobs import WHOLE_DOCUMENT, DocumentState, JobDocument, Reference, StoredPage
from console.ui._scores import job_scores, page_truth
from ocr_core import OCRError, PageResult

NOW = datetime.now(UTC)


def _document(pages: int, document_id: int = 1) -> JobDocument:
    return JobDocument(
        document_id, 1, document_id - 1, f"d{document_id}.pdf", 10, DocumentState.OPENED, pages
    )


def _stored(
    index: int, text: str = "", *, failed: bool = False, document_id: int = 1
) -> StoredPage:
    error = OCRError("cannot read", page_index=index) if failed else None
    return StoredPage(1, document_id, PageResult(index, text, error), None, None, NOW, NOW)


def _ref(index: int, text: str, document_id: int = 1) -> Reference:
    return Reference(document_id, index, text, "truth.txt")


def test_the_job_lists_the_worst_pages_first_with_the_mean() -> None:
    pages = [_stored(0, "one two three four"), _stored(1, "one two"), _stored(2, "x")]
    references = [_ref(0, "one two three four"), _ref(1, "one two three four")]
    scores = job_scores([_document(3)], pages, references)
    assert list(scores.table["page"]) == ["2", "1"]
    assert list(scores.table["WER"]) == [0.5, 0.0]
    assert scores.mean_wer == pytest.approx(0.25)
    [note] = scores.notes
    assert note == (
        "d1.pdf: the reference has 2 pages and the document 3 pages: pages after 2 have no "
        "reference."
    )


def test_failed_pages_and_empty_references_are_named_not_scored() -> None:
    pages = [_stored(0, failed=True), _stored(1, "text")]
    scores = job_scores([_document(2)], pages, [_ref(0, "truth"), _ref(1, "  ")])
    assert scores.table.empty and scores.mean_cer is None
    assert scores.notes == [
        "d1.pdf page 1 failed: not scored.",
        "d1.pdf page 2: the reference is empty, not scored.",
    ]


def test_a_reference_without_page_breaks_scores_the_whole_document() -> None:
    pages = [_stored(0, "first page"), _stored(1, "second page")]
    scores = job_scores([_document(2)], pages, [_ref(WHOLE_DOCUMENT, "first page second page")])
    assert list(scores.table["page"]) == ["all"] and scores.mean_cer == 0.0
    truth = page_truth([_ref(WHOLE_DOCUMENT, "x")], _document(2), pages[0].result, True)
    assert truth.score is None and truth.message and "covers the whole document" in truth.message


def test_a_one_page_document_takes_a_reference_without_breaks_as_its_page() -> None:
    truth = page_truth(
        [_ref(WHOLE_DOCUMENT, "Hello world")], _document(1), PageResult(0, "Hello word"), True
    )
    assert truth.score is not None and truth.score.wer == 0.5


def test_a_page_not_read_yet_waits_for_its_score() -> None:
    truth = page_truth([_ref(0, "truth")], _document(1), PageResult(0), False)
    assert truth.message == "Not read yet: the page is scored once it is read."


def test_a_page_read_out_of_order_is_scored_order_free_and_said_to_be_mostly_order() -> None:
    reference = "left column words here\n\nright column other words"
    swapped = "right column other words\n\nleft column words here"
    scores = job_scores([_document(1)], [_stored(0, swapped)], [_ref(0, reference)])
    row = scores.table.iloc[0]
    assert row["CER"] > 0.3
    assert (row["order-free CER"], row["word precision"], row["word recall"]) == (0, 1, 1)
    assert row["note"] == "mostly reading order" and scores.mostly_reading_order
    truth = page_truth([_ref(0, reference)], _document(1), PageResult(0, swapped), True)
    assert truth.score is not None and truth.score.measures.mostly_reading_order
