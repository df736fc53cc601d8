"""Page truths: versions kept, who and when, the optimistic lock, restore, presence."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from console._store import Store
from console.jobs import JobStore
from console.jobs._rows import MAX_PAGE_TEXT_CHARS
from console.jobs._words import WordsStore
from console.review import ReviewError, ReviewStore, StaleVersion
from tests.console.review.conftest import Seed, seed_job
from tests.fakes.postgres import PostgresServer

_names = itertools.count()


def test_approve_keeps_the_model_text_with_who_and_the_revision(store: Store) -> None:
    job = seed_job(store, Seed("the text", confidence=0.5), revision="rev-7")
    review = ReviewStore(store)
    truth = review.approve(review.page(job, 1), "ana")
    assert (truth.version, truth.kind, truth.actor, truth.text) == (
        1,
        "approved",
        "ana",
        "the text",
    )
    assert truth.revision == "rev-7" and not truth.changed
    assert truth.reasons == ("low confidence",)


def test_a_correction_is_a_new_version_and_earlier_ones_stay(store: Store) -> None:
    job = seed_job(store, Seed("teh text"))
    review = ReviewStore(store)
    page = review.page(job, 1)
    review.approve(page, "ana")
    review.correct(page, "the text", "bo", base_version=1)
    versions = review.versions(page)
    assert [(v.version, v.kind, v.text) for v in versions] == [
        (1, "approved", "teh text"),
        (2, "corrected", "the text"),
    ]
    assert versions[-1].changed


def test_a_save_over_a_newer_version_is_refused_with_the_difference(store: Store) -> None:
    job = seed_job(store, Seed("one two three"))
    review = ReviewStore(store)
    page = review.page(job, 1)
    review.correct(page, "one 2 three", "ana", base_version=0)
    with pytest.raises(StaleVersion) as refused:
        review.correct(page, "one two 3", "bo", base_version=0)
    assert refused.value.newest.actor == "ana"
    assert "-one 2 three" in refused.value.difference
    assert "+one two 3" in refused.value.difference
    assert [v.text for v in review.versions(page)] == ["one 2 three"]


def test_restoring_an_earlier_version_adds_it_again_as_the_newest(store: Store) -> None:
    job = seed_job(store, Seed("first"))
    review = ReviewStore(store)
    page = review.page(job, 1)
    review.correct(page, "second", "ana")
    review.correct(page, "third", "ana")
    restored = review.restore(page, 1, "bo")
    assert (restored.version, restored.kind, restored.text) == (3, "restored", "second")


def test_restoring_a_version_that_does_not_exist_is_a_review_error(store: Store) -> None:
    job = seed_job(store, Seed("first"))
    review = ReviewStore(store)
    with pytest.raises(ReviewError, match="no version 4"):
        review.restore(review.page(job, 1), 4, "bo")


def test_a_page_number_past_the_job_is_a_review_error(store: Store) -> None:
    job = seed_job(store, Seed("only"))
    with pytest.raises(ReviewError, match="has no page 2"):
        ReviewStore(store).page(job, 2)


def test_a_text_past_the_page_bound_is_refused(store: Store) -> None:
    job = seed_job(store, Seed("short"))
    review = ReviewStore(store)
    with pytest.raises(ReviewError, match="at most"):
        review.correct(review.page(job, 1), "x" * (MAX_PAGE_TEXT_CHARS + 1), "ana")
    assert review.versions(review.page(job, 1)) == []


def test_two_people_on_one_page_see_each_other_until_one_leaves(store: Store) -> None:
    job = seed_job(store, Seed("text"))
    review = ReviewStore(store)
    page = review.page(job, 1)
    now = datetime.now(UTC)
    assert review.here(page, "ana", now) == []
    assert review.here(page, "bo", now) == ["ana"]
    assert review.here(page, "ana", now + timedelta(seconds=5)) == ["bo"]
    review.leave(page, "bo")
    assert review.here(page, "ana", now + timedelta(seconds=6)) == []


def test_someone_not_seen_for_a_while_is_no_longer_on_the_page(store: Store) -> None:
    job = seed_job(store, Seed("text"))
    review = ReviewStore(store)
    page = review.page(job, 1)
    now = datetime.now(UTC)
    review.here(page, "ana", now)
    assert review.here(page, "bo", now + timedelta(minutes=10)) == []


def test_reviewed_gives_each_page_s_newest_truth(store: Store) -> None:
    job = seed_job(store, Seed("a"), Seed("b"))
    review = ReviewStore(store)
    review.correct(review.page(job, 1), "A", "ana")
    review.correct(review.page(job, 1), "AA", "ana")
    review.approve(review.page(job, 2), "bo")
    assert [(t.page_index, t.text) for t in review.reviewed([job])] == [(0, "AA"), (1, "b")]


def test_truths_and_the_lock_hold_on_postgres(postgres: PostgresServer) -> None:
    store = Store(url=postgres.create_database(f"review_{next(_names)}"))
    try:
        job = seed_job(store, Seed("one two"))
        review = ReviewStore(store)
        page = review.page(job, 1)
        review.correct(page, "one 2", "ana", base_version=0)
        with pytest.raises(StaleVersion):
            review.correct(page, "1 two", "bo", base_version=0)
        assert [v.text for v in review.versions(page)] == ["one 2"]
        review.send(job, [1], "ana")
        assert [e.page.number for e in review.queue()] == [1]
        # The worker locates a corrected page's words on its truth.
        [document] = JobStore(store).documents(job)
        assert WordsStore(store).pages_to_locate(document.id) == [(0, "one 2")]
    finally:
        store.close()
