"""The Metrics page on its own: charts from the local platform's stored samples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from console._operations import Operations
from console._store import Sample
from console.platforms._base import MetricKey
from tests.console.views.console_ops import page

MEMORY = "Memory utilisation"
COLD_START = "Cold-start (startup) latency, s"


@dataclass
class Chart:
    spec: dict[str, Any]
    # The plotted points, and the threshold line's data when the chart has one.
    data: pd.DataFrame
    threshold: pd.DataFrame | None
    notes: list[str]


def _section(at: AppTest, title: str) -> tuple[list[Any], list[Any]]:
    """The chart column's and the note column's elements under the subheader `title`."""
    children = list(at.main.children.values())
    position = next(i for i, c in enumerate(children) if getattr(c, "value", None) == title)
    chart_column, note_column = children[position + 1].children.values()
    return list(chart_column.children.values()), list(note_column.children.values())


def _chart(at: AppTest, title: str) -> Chart | None:
    charts, notes = _section(at, title)
    if charts[0].type != "vega_lite_chart":
        return None
    proto = charts[0].proto
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in proto.datasets]
    threshold = frames[1] if len(frames) > 1 else None
    return Chart(json.loads(proto.spec), frames[0], threshold, [n.value for n in notes])


def _run(window: str | None = None) -> AppTest:
    at = page("metrics").run()
    if window is not None:
        at.segmented_control(key="metrics_window").set_value(window).run()
    assert not at.exception
    return at


def _memory(operations: Operations, value: float, at: datetime) -> None:
    """A memory reading as the local sampler stores it (the store is the platform's record)."""
    operations.platform.store.add_samples(
        operations.platform.name, [Sample(MetricKey.MEMORY_UTILIZATION, "server", at, value)]
    )


def test_without_samples_every_chart_says_no_data_yet(operations: Operations) -> None:
    at = _run()
    assert not at.get("vega_lite_chart")
    assert "No data yet for the last 1 h." in [i.value for i in at.info]
    assert at.info[-1].value.startswith("No warm-ups recorded yet")


def test_sampled_metrics_are_charted_with_the_memory_threshold_line(
    operations: Operations,
) -> None:
    operations.platform.sample_once()
    operations.platform.sample_once()
    at = _run()
    memory = _chart(at, MEMORY)
    assert memory is not None
    assert len(memory.data) >= 2
    assert memory.data["value"].between(0, 1).all()
    rule = next(layer for layer in memory.spec["layer"] if layer["mark"]["type"] == "rule")
    assert rule["mark"]["strokeDash"] == [6, 4]
    assert memory.threshold is not None
    assert list(memory.threshold["threshold"]) == [0.9]
    assert "Threshold: 90% (dashed line)." in memory.notes
    assert _chart(at, "Instances") is not None


def test_a_breach_gets_a_plain_language_hint_beside_its_chart(operations: Operations) -> None:
    _memory(operations, 0.95, datetime.now(UTC) - timedelta(minutes=5))
    _memory(operations, 0.40, datetime.now(UTC) - timedelta(minutes=1))
    memory = _chart(_run(), MEMORY)
    assert memory is not None
    [hint] = memory.notes
    assert "Memory reached 95% (alert line 90%)" in hint
    assert "concurrent requests" in hint


def test_the_window_selects_how_far_back_the_charts_go(operations: Operations) -> None:
    _memory(operations, 0.5, datetime.now(UTC) - timedelta(days=2))
    assert _chart(_run(), MEMORY) is None
    assert _chart(_run("1 d"), MEMORY) is None
    week = _chart(_run("7 d"), MEMORY)
    assert week is not None
    assert list(week.data["value"]) == [0.5]


def test_warm_ups_appear_in_the_cold_start_chart_and_history(operations: Operations) -> None:
    report = operations.warm_up()
    at = _run()
    cold_start = _chart(at, COLD_START)
    assert cold_start is not None
    assert "warm-up" in set(cold_start.data["line"])
    history = at.dataframe[-1].value
    assert list(history["cold start (s)"]) == [round(report.seconds, 2)]
