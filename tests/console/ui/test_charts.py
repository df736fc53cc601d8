"""Charts break their lines where nothing was sampled, instead of drawing a level or a zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from console.ui._charts import with_gaps

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _frame(seconds: list[int], line: str = "rss") -> pd.DataFrame:
    return pd.DataFrame(
        [(T0 + timedelta(seconds=s), 1.0, line) for s in seconds],
        columns=["time", "value", "line"],
    )


def test_a_sampling_gap_becomes_a_blank_between_its_two_samples() -> None:
    framed = with_gaps(_frame([0, 10, 20, 30, 200, 210]))
    blanks = framed[framed["value"].isna()]
    assert list(blanks["time"]) == [pd.Timestamp(T0 + timedelta(seconds=115))]
    assert len(framed) == 7


def test_evenly_sampled_lines_are_left_as_they_are() -> None:
    frame = _frame([0, 10, 20, 31, 40])
    assert with_gaps(frame)["value"].notna().all()
    assert len(with_gaps(frame)) == 5


def test_each_line_is_judged_by_its_own_sampling_interval() -> None:
    frame = pd.concat([_frame([0, 10, 20, 30], "fast"), _frame([0, 60, 120, 180], "slow")])
    assert with_gaps(frame)["value"].notna().all()
