"""console.golden._scoring.judge: what keeps a candidate from traffic, per document, from
scored runs."""

from __future__ import annotations

from datetime import UTC, datetime

from console.golden import GoldenRun
from console.golden._models import DocumentScore
from console.golden._scoring import judge

AT = datetime(2026, 12, 5, tzinfo=UTC)


def _run(*scores: DocumentScore, error: str | None = None) -> GoldenRun:
    return GoldenRun(
        1,
        "photo",
        1,
        "http://x",
        "rev",
        "qa",
        AT,
        0.02,
        finished_at=AT,
        scores=list(scores),
        error=error,
    )


def _score(name: str, cer: float | None, failed: int = 0) -> DocumentScore:
    return DocumentScore(
        name, cer, cer, pages=1, pages_failed=failed, error="page 1: refused" if failed else None
    )


def test_a_run_as_good_as_the_baseline_within_the_margin_passes() -> None:
    changes, refusals = judge(_run(_score("a", 0.11)), _run(_score("a", 0.10)), 0.02)
    assert refusals == [] and [c.regression for c in changes] == [False]


def test_a_document_worse_by_more_than_the_margin_is_a_refusal() -> None:
    _changes, refusals = judge(_run(_score("a", 0.13)), _run(_score("a", 0.10)), 0.02)
    assert refusals == ["a: CER 0.1000 -> 0.1300"]


def test_an_incomplete_run_is_refused_even_when_what_was_read_is_better() -> None:
    _changes, refusals = judge(_run(_score("a", 0.0, failed=1)), _run(_score("a", 0.1)), 0.02)
    assert refusals[0] == "incomplete golden run: a: page 1: refused"


def test_a_document_the_baseline_read_but_the_candidate_did_not_score_is_a_refusal() -> None:
    _changes, refusals = judge(
        _run(_score("a", 0.1)), _run(_score("a", 0.1), _score("b", 0.1)), 0.02
    )
    assert refusals == ["b: in the baseline, not in this run"]
