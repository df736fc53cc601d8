"""A regression is a CER rise over the margin against the previous run, per document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.golden import DocumentScore, GoldenRun, flag_regressions


def _run(*scores: DocumentScore) -> GoldenRun:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return GoldenRun(1, "set", 1, "http://s", "r1", "ana", at, 0.02, at, list(scores))


def _score(name: str, cer: float | None) -> DocumentScore:
    return DocumentScore(name, cer, cer, 1, 0, None if cer is not None else "corrupt")


def test_the_first_run_flags_nothing() -> None:
    assert not any(s.regression for s in flag_regressions([_score("a", 0.9)], None, 0.02))


@pytest.mark.parametrize(
    ("before", "now", "flagged"),
    [(0.10, 0.125, True), (0.10, 0.115, False), (0.10, 0.02, False), (0.0, 0.021, True)],
)
def test_a_rise_over_the_margin_is_a_regression(before: float, now: float, flagged: bool) -> None:
    (score,) = flag_regressions([_score("a", now)], _run(_score("a", before)), 0.02)
    assert (score.regression, score.previous_cer) == (flagged, before)


def test_a_document_that_was_read_and_now_is_not_is_a_regression() -> None:
    (score,) = flag_regressions([_score("a", None)], _run(_score("a", 0.1)), 0.02)
    assert score.regression and score.error == "corrupt"


def test_a_document_new_to_the_set_has_nothing_to_regress_from() -> None:
    (score,) = flag_regressions([_score("b", 0.5)], _run(_score("a", 0.1)), 0.02)
    assert not score.regression and score.previous_cer is None


def test_a_run_with_every_page_read_is_complete() -> None:
    run = _run(DocumentScore("a", 0.1, 0.2, 3, 0))
    assert not run.incomplete and run.pages_read == (3, 3) and run.problems == []


def test_a_run_with_a_page_not_read_is_incomplete_and_says_why() -> None:
    run = _run(DocumentScore("a", 0.1, 0.2, 3, 1, "1 of 3 pages not read: page 2: timeout"))
    assert run.incomplete and run.pages_read == (2, 3)
    assert run.problems == ["a: 1 of 3 pages not read: page 2: timeout"]


def test_a_run_that_scored_nothing_or_failed_is_incomplete() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert GoldenRun(1, "set", 1, "http://s", "r1", "ana", at, 0.02, at, []).incomplete
    broken = GoldenRun(
        1,
        "set",
        1,
        "http://s",
        "r1",
        "ana",
        at,
        0.02,
        at,
        [_score("a", 0.1)],
        error="its job was cancelled",
    )
    assert broken.incomplete and broken.problems == ["its job was cancelled"]


def test_a_run_still_reading_is_neither_complete_nor_incomplete() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert not GoldenRun(1, "set", 1, "http://s", "r1", "ana", at, 0.02).incomplete
