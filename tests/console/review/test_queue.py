"""The review queue: which pages enter, why, in which order, and when they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console._store import Store
from console.jobs import DocumentState, JobStore
from console.jobs._ledger import JobLedger
from console.jobs._words import WordsStore
from console.review import QueueFilter, ReviewError, ReviewSettings, ReviewStore, summary
from console.review._queue import QueueSummary, sampled
from ocr_core import PageWords
from ocr_core._locate import DetectedLine, LocatedWord
from tests.console.jobs.conftest import make_pdf, submit
from tests.console.review.conftest import Seed, seed_job


def test_doubted_pages_enter_and_confident_ones_do_not(store: Store) -> None:
    job = seed_job(
        store,
        Seed("all fine here"),
        Seed("low page", confidence=0.6),
        Seed("one odd word", doubtful=("odd",)),
        Seed("looped", rerun="runaway"),
    )
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(threshold=0.9, sample_rate=0.0))
    entries = review.queue()
    assert sorted(e.page.number for e in entries) == [2, 3, 4]
    by_number = {e.page.number: e.reasons for e in entries}
    assert by_number == {2: ("low confidence",), 3: ("doubtful words",), 4: ("re-run",)}
    assert all(e.page.job_id == job for e in entries)


def test_the_queue_is_ordered_riskiest_first(store: Store) -> None:
    seed_job(store, Seed("a", confidence=0.85), Seed("b", confidence=0.4), Seed("c", rerun="empty"))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(threshold=0.9, sample_rate=0.0))
    assert [e.page.number for e in review.queue()] == [3, 2, 1]


def test_a_person_can_send_a_confident_page_and_it_leaves_once_approved(store: Store) -> None:
    job = seed_job(store, Seed("fine"), Seed("fine too"))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(sample_rate=0.0))
    assert review.queue() == []
    assert review.send(job, [2], "ana") == 1
    [entry] = review.queue()
    assert (entry.page.number, entry.reasons) == (2, ("sent by a person",))
    review.approve(entry.page, "ana")
    assert review.queue() == []


def test_sending_a_whole_job_queues_every_page(store: Store) -> None:
    job = seed_job(store, Seed("x"), Seed("y"), Seed("z"))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(sample_rate=0.0))
    review.send(job, None, "ana")
    assert summary(review.queue()).waiting == 3


def test_a_job_whose_document_is_not_opened_yet_is_refused_whole(store: Store) -> None:
    job = submit(JobStore(store), ("later.pdf", make_pdf(2)))
    review = ReviewStore(store)
    with pytest.raises(ReviewError, match="its document is not opened yet"):
        review.send(job, None, "ana")
    assert review.queue() == []


def test_a_page_past_the_opened_documents_is_refused_saying_some_are_not_opened(
    store: Store,
) -> None:
    jobs = JobStore(store)
    job = submit(jobs, ("first.pdf", make_pdf(1)), ("second.pdf", make_pdf(2)))
    first, _second = jobs.documents(job)
    JobLedger(store).set_document(first.id, DocumentState.OPENED, 1)
    review = ReviewStore(store)
    with pytest.raises(ReviewError, match=r"no page 2 \(1 of its 2 documents are not opened"):
        review.send(job, [2], "ana")
    assert review.send(job, [1], "ana") == 1


def test_sending_a_job_that_does_not_exist_is_a_review_error(store: Store) -> None:
    with pytest.raises(ReviewError, match="no job #404"):
        ReviewStore(store).send(404, None, "ana")


def test_a_sample_of_confident_pages_enters_at_the_rate_set(store: Store) -> None:
    seed_job(store, *(Seed(f"page {n}") for n in range(40)))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(sample_rate=0.25))
    entries = review.queue()
    expected = [e for e in entries if e.reasons == ("sample of confident pages",)]
    assert len(expected) == len(entries) > 0
    assert all(sampled(e.page.document_id, e.page.page_index, 0.25) for e in entries)
    review.set_settings(ReviewSettings(sample_rate=1.0))
    assert len(review.queue()) == 40


def test_the_queue_filters_by_job_document_type_and_revision(store: Store) -> None:
    low = Seed("doubt", confidence=0.1)
    first = seed_job(store, low, revision="rev-1", filename="a.pdf")
    second = seed_job(store, low, revision="rev-2", filename="b.png.pdf")
    review = ReviewStore(store)
    assert [e.page.job_id for e in review.queue(QueueFilter(job_id=first))] == [first]
    assert [e.page.job_id for e in review.queue(QueueFilter(revision="rev-2"))] == [second]
    assert len(review.queue(QueueFilter(document_type="PDF"))) == 2
    assert review.queue(QueueFilter(document_type="png")) == []


def test_the_summary_counts_the_waiting_pages_and_the_oldest(store: Store) -> None:
    seed_job(store, Seed("a", confidence=0.1), Seed("b", confidence=0.2))
    entries = ReviewStore(store).queue()
    found = summary(entries)
    assert found.waiting == 2
    assert found.oldest == min(e.waiting_since for e in entries)


def _located(store: Store, job_id: int, visits: list[int]) -> None:
    """Page 1's words located as the text walks ten engine lines down the page in `visits`
    order (kept by the real WordsStore, which asks ocr_core.check_order)."""
    lines = tuple(DetectedLine((0, 20 * n, 100, 20 * n + 10), "w", ()) for n in range(10))
    words = tuple(
        LocatedWord("w", (10, 20 * n + 2, 20, 20 * n + 8), line, 0) for line, n in enumerate(visits)
    )
    [document] = JobStore(store).documents(job_id)
    WordsStore(store).save(job_id, document.id, 0, PageWords(100, 200, words, lines))


def test_a_page_whose_text_reads_across_its_columns_enters_for_its_reading_order(
    store: Store,
) -> None:
    job = seed_job(store, Seed("confident but read across"))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(threshold=0.9, sample_rate=0.0))
    _located(store, job, [0, 5, 1, 6, 2, 7, 3, 8, 4, 9])  # left, right, left, right...

    [entry] = review.queue()

    assert entry.reasons == ("reading order",)
    assert review.model_page(entry.page)[3] == ("reading order",)  # the review page says so


def test_a_page_read_in_the_layouts_order_does_not_enter(store: Store) -> None:
    job = seed_job(store, Seed("confident and in order"))
    review = ReviewStore(store)
    review.set_settings(ReviewSettings(threshold=0.9, sample_rate=0.0))
    _located(store, job, list(range(10)))

    assert review.queue() == []


@pytest.mark.parametrize(
    ("waited", "said"),
    [
        (timedelta(minutes=12, seconds=20), "12 min"),
        (timedelta(hours=3, minutes=30), "3.5 h"),
        (timedelta(days=2), "2.0 days"),
    ],
)
def test_the_longest_wait_is_said_in_minutes_hours_or_days(waited: timedelta, said: str) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert QueueSummary(4, now - waited).longest_wait(now) == said


def test_an_empty_queue_has_no_longest_wait() -> None:
    assert QueueSummary(0, None).longest_wait(datetime(2026, 12, 7, tzinfo=UTC)) == "-"
