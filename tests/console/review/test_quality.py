"""The quality figures from corrections, on a seeded store, against a hand count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console._store import Store
from console.jobs._truth_rows import truths_table
from console.review import ReviewStore
from console.review._quality import correction_figures, most_corrected_words
from tests.console.review.conftest import Seed, seed_job


@pytest.fixture
def seeded(store: Store) -> ReviewStore:
    """rev-1 this week: 4 pages, 2 flagged (1 changed, 1 not), 2 confident (1 changed).
    rev-2 a week earlier: 2 flagged pages, 1 changed."""
    review = ReviewStore(store)
    one = seed_job(
        store,
        Seed("the cat", confidence=0.5),
        Seed("all good"),
        Seed("also fine", confidence=0.6),
        Seed("dog"),
        revision="rev-1",
    )
    two = seed_job(
        store,
        Seed("the cat said helo", rerun="repetition"),
        Seed("ok", doubtful=("ok",)),
        revision="rev-2",
    )
    review.correct(review.page(one, 1), "the hat", "ana")
    review.approve(review.page(one, 2), "ana")
    review.approve(review.page(one, 3), "ana")
    review.correct(review.page(one, 4), "dig", "ana")
    review.correct(review.page(two, 1), "the hat said hello", "bo")
    review.approve(review.page(two, 2), "bo")
    t = truths_table
    with store.transaction() as connection:
        connection.execute(
            t.update()
            .where(t.c.job_id == two)
            .values(created_at=t.c.created_at - timedelta(weeks=1).total_seconds())
        )
    return review


def test_the_figures_per_revision_and_week_match_a_hand_count(seeded: ReviewStore) -> None:
    rows = correction_figures(seeded.reviewed())
    assert [(r.revision, r.week < rows[0].week) for r in rows] == [
        ("rev-1", False),
        ("rev-2", True),
    ]
    first, second = rows
    assert (first.reviewed, first.changed, first.share_changed) == (4, 2, 0.5)
    assert first.cer == pytest.approx(2 / 27)  # "cat"->"hat", "dog"->"dig" over 7+8+9+3 chars
    assert (first.flagged, first.caught, first.missed, first.needless) == (2, 1, 1, 1)
    assert (first.share_caught, first.share_needless) == (0.5, 0.5)
    assert (second.reviewed, second.changed, second.flagged, second.missed) == (2, 1, 2, 0)
    assert second.cer == pytest.approx(2 / 20)  # "cat"->"hat", "helo"->"hello" over 18+2


def test_the_words_most_often_corrected_come_first(seeded: ReviewStore) -> None:
    assert most_corrected_words(seeded.reviewed()) == [
        ("cat", "hat", 2),
        ("dog", "dig", 1),
        ("helo", "hello", 1),
    ]
