"""The Metrics page on its own: charts from the local platform's stored samples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from console._store import Sample
from console.platforms._base import MetricKey
from console.service import Operations
from tests.console.ui.views.console_ops import installed_operations, page, text_of

MEMORY = "Memory utilisation"
COLD_START = "Cold-start (startup) latency, s"


@dataclass
class Chart:
    spec: dict[str, Any]
    # The plotted points, and the threshold line's data when the chart has one.
    data: pd.DataFrame
    threshold: pd.DataFrame | None
    notes: list[str]


def _section(at: AppTest, title: str) -> tuple[Any, list[Any]]:
    """The chart (or its "no data" note) and the other notes under the subheader `title`."""
    # The page body is the auto-refreshing fragment's block, after the title and window.
    children = list(list(at.main.children.values())[-1].children.values())
    position = next(i for i, c in enumerate(children) if text_of(c) == title)
    *notes, chart = children[position + 1].children.values()
    return chart, notes


def _chart(at: AppTest, title: str) -> Chart | None:
    chart, notes = _section(at, title)
    if chart.type != "vega_lite_chart":
        return None
    proto = chart.proto
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


def test_cold_starts_appear_in_the_cold_start_chart_and_history(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        record = operations.warm_up()
        assert record.cold
        at = _run()
    cold_start = _chart(at, COLD_START)
    assert cold_start is not None
    assert list(cold_start.data[cold_start.data["line"] == "warm-up"]["value"]) == [record.seconds]
    history = at.dataframe[-1].value
    assert list(history["outcome"]) == ["cold start"]
    assert list(history["seconds"]) == [round(record.seconds, 2)]
    assert list(history["health checks"]) == [record.attempts]


def test_the_local_cold_start_chart_is_the_warm_ups_drawn_as_points_not_a_line(
    tmp_path: Path,
) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        now = datetime.now(UTC)
        # The simulated engine's "engine ready in 0.00 s" lines, as the local sampler
        # stores them, hours apart: no cold start anybody waited for.
        operations.platform.store.add_samples(
            "local",
            [
                Sample(MetricKey.STARTUP_LATENCY_S, "engine", now - timedelta(hours=h), 0.0)
                for h in (5, 3, 1)
            ],
        )
        record = operations.warm_up()
        assert record.cold
        at = _run("1 d")
    cold_start = _chart(at, COLD_START)
    assert cold_start is not None
    assert set(cold_start.data["line"].dropna()) == {"warm-up"}  # as the Service page lists
    assert list(cold_start.data["value"].dropna()) == [record.seconds]
    assert cold_start.spec["mark"]["type"] == "point"  # events, never joined across hours


def test_warming_a_warm_service_twice_charts_no_cold_start(operations: Operations) -> None:
    first, second = operations.warm_up(), operations.warm_up()
    assert first.ready and second.ready
    at = _run()
    cold_start = _chart(at, COLD_START)
    assert cold_start is None or "warm-up" not in set(cold_start.data["line"])
    history = at.dataframe[-1].value
    assert list(history["outcome"]) == ["already warm", "already warm"]


def test_charts_span_the_full_width_of_the_page_with_notes_above_not_beside(
    operations: Operations,
) -> None:
    operations.platform.sample_once()
    at = _run()
    # The page body is the auto-refreshing fragment's block, after the title and window.
    children = list(list(at.main.children.values())[-1].children.values())
    position = next(i for i, c in enumerate(children) if text_of(c) == MEMORY)
    section = children[position + 1]
    # Columns are a horizontal flex container: a chart in one leaves the rest of the row empty.
    assert section.proto.flex_container.direction == section.proto.flex_container.VERTICAL
    assert section.proto.width_config.use_stretch
    chart, notes = _section(at, MEMORY)
    assert chart.type == "vega_lite_chart"
    assert [n.type for n in notes] == ["caption"]


def test_a_few_minutes_of_data_fill_the_time_axis_instead_of_its_right_edge(
    operations: Operations,
) -> None:
    now = datetime.now(UTC)
    _memory(operations, 0.3, now - timedelta(minutes=20))
    _memory(operations, 0.4, now - timedelta(minutes=1))
    memory = _chart(_run("1 h"), MEMORY)
    assert memory is not None
    lines = next(layer for layer in memory.spec["layer"] if layer["mark"]["type"] == "line")
    start, end = (datetime.fromisoformat(t) for t in lines["encoding"]["x"]["scale"]["domain"])
    assert timedelta(minutes=19) < end - start < timedelta(minutes=21)


def test_seconds_of_data_are_drawn_on_a_one_minute_axis_read_in_seconds(
    operations: Operations,
) -> None:
    _memory(operations, 0.4, datetime.now(UTC) - timedelta(seconds=5))
    memory = _chart(_run("1 h"), MEMORY)
    assert memory is not None
    lines = next(layer for layer in memory.spec["layer"] if layer["mark"]["type"] == "line")
    start, end = (datetime.fromisoformat(t) for t in lines["encoding"]["x"]["scale"]["domain"])
    assert end - start == timedelta(minutes=1)
    assert lines["encoding"]["x"]["axis"]["format"] == "%H:%M:%S"
