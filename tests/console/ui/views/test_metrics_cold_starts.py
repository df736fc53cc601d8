"""The Metrics page's "Cold starts" section: a timeline per warm-up, phases over the last N."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from console._store import WarmUpRecord
from console.metrics._cold_starts import ColdStarts
from console.service import Operations
from tests.console.ui.views.console_ops import installed_operations, page, text_of

SECTION = "Cold starts"


def _section(at: AppTest) -> list[Any]:
    body = list(list(at.main.children.values())[-1].children.values())
    position = next(i for i, c in enumerate(body) if text_of(c) == SECTION)
    return list(body[position + 1].children.values())


def _texts(elements: list[Any]) -> list[str]:
    return [text for e in elements if (text := text_of(e)) is not None]


def _frames(element: Any) -> pd.DataFrame:
    return pa.ipc.open_stream(element.proto.datasets[0].data.data).read_pandas()


def _cold_start(operations: Operations, at: datetime, graphs_s: float) -> None:
    """A stored cold start whose CUDA-graph phase took `graphs_s`."""
    record = WarmUpRecord(
        at=at,
        platform="local",
        ready=True,
        seconds=60 + graphs_s,
        attempts=9,
        error=None,
        cold=True,
    )
    operations.store.add_warm_up(record)
    offsets = {
        "sent": 0,
        "instance": 4,
        "process": 9,
        "weights_start": 21,
        "weights_loaded": 31,
        "graphs_captured": 31 + graphs_s,
        "engine_ready": 34 + graphs_s,
        "listening": 36 + graphs_s,
        "model_listed": 38 + graphs_s,
        "answered": 40 + graphs_s,
    }
    marks = {mark: at + timedelta(seconds=s) for mark, s in offsets.items()}
    ColdStarts(operations.store).record(record, marks)


def test_a_real_local_cold_start_is_drawn_as_a_timeline(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        assert operations.warm_up(timeout_s=60).cold
        at = page("metrics").run()
        assert not at.exception
        charts = [e for e in _section(at) if e.type == "vega_lite_chart"]
        assert len(charts) == 2
        timeline = _frames(charts[0])
        assert timeline["phase"].iloc[-1] == "first OCR answer"
        assert timeline["start"].iloc[0] == 0.0
        assert (timeline["end"] >= timeline["start"]).all()


def test_a_slower_phase_shows_as_a_longer_bar_over_the_last_warm_ups(
    operations: Operations,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _cold_start(operations, now - timedelta(hours=2), graphs_s=44)
    _cold_start(operations, now - timedelta(hours=1), graphs_s=90)  # a new vLLM, say
    at = page("metrics").run()
    section = _section(at)
    assert any("Longest phase: **compile + CUDA graphs**, 90.0 s" in t for t in _texts(section))
    bars = _frames([e for e in section if e.type == "vega_lite_chart"][1])
    graphs = bars[bars["phase"] == "compile + CUDA graphs"]
    assert sorted(graphs["seconds"]) == [44.0, 90.0]
    assert bars["warm-up"].nunique() == 2


def test_choosing_an_older_warm_up_draws_its_timeline(operations: Operations) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _cold_start(operations, now - timedelta(hours=2), graphs_s=44)
    _cold_start(operations, now - timedelta(hours=1), graphs_s=90)
    at = page("metrics").run()
    at.selectbox(key="metrics_cold_start").set_value(1).run()
    timeline = _frames(next(e for e in _section(at) if e.type == "vega_lite_chart"))
    graphs = timeline[timeline["phase"] == "compile + CUDA graphs"]
    assert list(graphs["seconds"]) == [44.0]


def test_without_a_cold_start_the_section_says_what_records_one(operations: Operations) -> None:
    at = page("metrics").run()
    assert any("No cold start with a timeline yet" in t for t in _texts(_section(at)))
