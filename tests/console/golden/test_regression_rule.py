"""One regression rule (`got_worse`) for golden-set history and for the canary's gate: the
two used to treat a document with no CER differently."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.golden import GoldenRun
from console.golden._models import DocumentScore
from console.golden._scoring import flag_regressions, got_worse, judge

AT = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after", "worse"),
    [
        (0.10, 0.11, False),  # within the margin
        (0.10, 0.13, True),  # past it
        (0.10, None, True),  # read before, not now
        (None, None, True),  # not read now: worse whatever it was
        (None, 0.50, False),  # never measured: nothing to have regressed from
    ],
)
def test_the_rule(before: float | None, after: float | None, worse: bool) -> None:
    assert got_worse(before, after, 0.02) is worse


def _run(cer_a: float | None, cer_b: float | None) -> GoldenRun:
    scores = [DocumentScore("a", cer_a, cer_a, 1, 0), DocumentScore("b", cer_b, cer_b, 1, 0)]
    return GoldenRun(1, "set", 1, "http://x", "rev", "qa", AT, 0.02, finished_at=AT, scores=scores)


@pytest.mark.parametrize(
    ("before", "after"), [((0.1, None), (0.1, None)), ((0.1, 0.1), (0.2, None))]
)
def test_history_and_the_canary_judge_a_run_alike(
    before: tuple[float | None, float | None], after: tuple[float | None, float | None]
) -> None:
    baseline, candidate = _run(*before), _run(*after)
    history = {s.filename: s.regression for s in flag_regressions(candidate.scores, baseline, 0.02)}
    changes, _refusals = judge(candidate, baseline, 0.02)
    assert history == {c.filename: c.regression for c in changes}
