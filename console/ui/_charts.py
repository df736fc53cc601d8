"""Altair charts of the Metrics page: time-series lines with thresholds, and the cold-start
timeline and phase bars. Presentation only: the data comes in as series and phases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd

from console.metrics._cold_starts import ColdStart
from console.metrics._startup_phases import MARKS, PHASE_NAMES
from console.platforms._base import MetricKey, MetricSeries

# The shortest time axis drawn, so that the first samples of a new console spread out.
MIN_SPAN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ChartStyle:
    title: str
    axis_format: str  # d3-format
    # Utilisations read best on a fixed 0-100% axis; None lets the data set the scale.
    domain: tuple[float, float] | None = None
    # Each point is an event (a cold start), not a level: points, never a line joining them
    # across the hours between.
    events: bool = False


# Chart order and style for each metric.
CHARTS: dict[MetricKey, ChartStyle] = {
    MetricKey.STARTUP_LATENCY_S: ChartStyle("Cold-start (startup) latency, s", ".1f", events=True),
    MetricKey.MEMORY_UTILIZATION: ChartStyle("Memory utilisation", ".0%", (0.0, 1.0)),
    MetricKey.GPU_MEMORY_UTILIZATION: ChartStyle("GPU memory utilisation", ".0%", (0.0, 1.0)),
    MetricKey.GPU_UTILIZATION: ChartStyle("GPU compute utilisation", ".0%", (0.0, 1.0)),
    MetricKey.CPU_UTILIZATION: ChartStyle("CPU utilisation", ".0%", (0.0, 1.0)),
    MetricKey.INSTANCE_COUNT: ChartStyle("Instances", "d"),
    MetricKey.REQUEST_LATENCY_S: ChartStyle("Request latency, s", ".1f"),
    MetricKey.REQUEST_COUNT: ChartStyle("Requests", "d"),
    MetricKey.ERROR_RATE: ChartStyle("Error rate", ".1%"),
}


def time_axis(first: datetime, now: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """The x range: from the first point (not the window's start) to now, never under
    `MIN_SPAN`, never before the window.

    A new console has minutes of data in a 1-hour window; drawn over the whole window its
    points are squeezed against the right edge. The axis' times still say how recent they are.
    """
    start = max(min(first, now - MIN_SPAN), now - window)
    return start, now


def time_format(span: timedelta) -> str:
    """Tick labels as precise as the axis needs: seconds on a new console, days on a week."""
    if span <= timedelta(minutes=15):
        return "%H:%M:%S"
    if span <= timedelta(days=1):
        return "%H:%M"
    return "%d %b %H:%M"


def time_x(frame: pd.DataFrame, window: timedelta) -> alt.X:
    """The time axis every metric chart shares: from the first point (or the window's start)
    to now, in UTC, its labels as precise as its span needs."""
    start, end = time_axis(frame["time"].min().to_pydatetime(), datetime.now(UTC), window)
    return alt.X(
        "time:T",
        title=None,
        scale=alt.Scale(type="utc", domain=[start.isoformat(), end.isoformat()]),
        axis=alt.Axis(format=time_format(end - start), labelOverlap=True),
    )


# A line breaks where two samples lie further apart than this many typical intervals: the
# sampler was not running or could not read (a gap), which must not read as a level or a 0.
GAP_FACTOR = 3.0


def with_gaps(frame: pd.DataFrame, group: str = "line") -> pd.DataFrame:
    """`frame` with a blank value between two samples of a line that lie far apart, so the
    line breaks there instead of bridging a time nothing was measured."""
    parts = []
    for _name, line in frame.sort_values("time").groupby(group, sort=False):
        parts.append(line)
        steps = line["time"].diff()
        typical = steps.median()
        if pd.isna(typical) or typical <= pd.Timedelta(0):
            continue
        far = steps > typical * GAP_FACTOR
        if far.any():
            blanks = line[far].copy()
            blanks["time"] = blanks["time"] - steps[far] / 2
            blanks["value"] = float("nan")
            parts.append(blanks)
    return pd.concat(parts).sort_values("time", kind="stable") if parts else frame


def line_chart(
    series: list[MetricSeries], style: ChartStyle, threshold: float | None, window: timedelta
) -> alt.Chart:
    """Lines from the first point to now, with the runbook's threshold as a dashed red rule."""
    frame = pd.DataFrame(
        [(at, value, s.label) for s in series for at, value in s.points],
        columns=["time", "value", "line"],
    )
    points = len(frame) < 50
    chart = alt.Chart(frame, height=220)
    if style.events:
        marked = chart.mark_point(filled=True, size=60)
    else:
        frame = with_gaps(frame)
        chart = alt.Chart(frame, height=220)
        marked = chart.mark_line(point=points, invalid="break-paths-show-domains")
    lines = marked.encode(
        x=time_x(frame, window),
        y=alt.Y(
            "value:Q",
            title=None,
            axis=alt.Axis(format=style.axis_format),
            scale=alt.Scale(domain=list(style.domain)) if style.domain else alt.Undefined,
        ),
        color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["time:T", alt.Tooltip("value:Q", format=style.axis_format), "line:N"],
    )
    if threshold is None:
        return lines
    rule = (
        alt.Chart(pd.DataFrame({"threshold": [threshold]}), height=220)
        .mark_rule(color="#d62728", strokeDash=[6, 4])
        .encode(y="threshold:Q", tooltip=[alt.Tooltip("threshold:Q", format=style.axis_format)])
    )
    return alt.layer(lines, rule)


# Phases in the order a cold start goes through them, for colours and stacking.
PHASE_ORDER: list[str] = [PHASE_NAMES[mark] for mark in MARKS if mark in PHASE_NAMES]


def _phase_rows(cold: ColdStart, label: str) -> list[dict[str, object]]:
    sent = cold.marks.get("sent")
    origin = sent or (cold.phases[0].start if cold.phases else None)
    return [
        {
            "warm-up": label,
            "phase": phase.name,
            "order": PHASE_ORDER.index(phase.name),
            "start": (phase.start - origin).total_seconds() if origin else 0.0,
            "end": (phase.end - origin).total_seconds() if origin else 0.0,
            "seconds": phase.seconds,
        }
        for phase in cold.phases
    ]


def _phase_colour() -> alt.Color:
    return alt.Color(
        "phase:N",
        title=None,
        sort=PHASE_ORDER,
        scale=alt.Scale(domain=PHASE_ORDER, scheme="tableau10"),
        legend=alt.Legend(orient="bottom", columns=3),
    )


def timeline_chart(cold: ColdStart) -> alt.Chart:
    """One warm-up's phases as a horizontal timeline: seconds since the request was sent."""
    frame = pd.DataFrame(_phase_rows(cold, "selected"))
    return (
        alt.Chart(frame, height=alt.Step(26))  # one band per phase
        .mark_bar()
        .encode(
            x=alt.X("start:Q", title="seconds since the warm-up's first request"),
            x2="end:Q",
            y=alt.Y("phase:N", title=None, sort=PHASE_ORDER, axis=alt.Axis(labelLimit=220)),
            color=_phase_colour(),
            tooltip=[
                "phase:N",
                alt.Tooltip("seconds:Q", format=".1f"),
                alt.Tooltip("start:Q", format=".1f"),
                alt.Tooltip("end:Q", format=".1f"),
            ],
        )
    )


def phases_chart(colds: list[ColdStart], labels: list[str]) -> alt.Chart:
    """The phases of the last warm-ups as stacked horizontal bars, newest on top: a slower
    image or a new vLLM shows up as one longer colour."""
    rows = [
        row for cold, label in zip(colds, labels, strict=True) for row in _phase_rows(cold, label)
    ]
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, height=alt.Step(24))  # one band per warm-up
        .mark_bar()
        .encode(
            x=alt.X("sum(seconds):Q", title="seconds", stack="zero"),
            y=alt.Y("warm-up:N", title=None, sort=labels, axis=alt.Axis(labelLimit=220)),
            color=_phase_colour(),
            order=alt.Order("order:Q"),
            tooltip=["warm-up:N", "phase:N", alt.Tooltip("seconds:Q", format=".1f")],
        )
    )


# The combined chart's panels, top to bottom: what Cloud Run sees, then what vLLM holds.
PANELS: dict[MetricKey, str] = {
    MetricKey.INSTANCE_COUNT: "instances",
    MetricKey.STARTUP_LATENCY_S: "startup latency, s",
    MetricKey.GPU_MEMORY_UTILIZATION: "GPU memory",
    MetricKey.VLLM_REQUESTS_WAITING: "vLLM requests",
    MetricKey.VLLM_REQUESTS_RUNNING: "vLLM requests",
    MetricKey.KV_CACHE_USAGE: "KV cache usage",
}
VLLM_KEYS = (
    MetricKey.VLLM_REQUESTS_WAITING,
    MetricKey.VLLM_REQUESTS_RUNNING,
    MetricKey.KV_CACHE_USAGE,
)
_VLLM_LINE = {
    MetricKey.VLLM_REQUESTS_WAITING: "vLLM waiting (queue)",
    MetricKey.VLLM_REQUESTS_RUNNING: "vLLM running",
    MetricKey.KV_CACHE_USAGE: "KV cache",
}
# A facet chart cannot take the container's width; this fits the page's main column.
COMBINED_WIDTH = 860


def combined_chart(series: list[MetricSeries], window: timedelta) -> alt.FacetChart | None:
    """Instances, startup latency and GPU memory above vLLM's queue, batch and KV cache, on
    one time axis: a queue that grows while instances stay flat says "raise the ceiling"."""
    rows = [
        (at, value, PANELS[line.key], _VLLM_LINE.get(line.key, line.label))
        for line in series
        if line.key in PANELS
        for at, value in line.points
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["time", "value", "panel", "line"])
    order = list(dict.fromkeys(PANELS.values()))
    points = len(frame) < 50
    frame["key"] = frame["panel"] + "/" + frame["line"]
    frame = with_gaps(frame, group="key")
    return (
        alt.Chart(frame, height=110, width=COMBINED_WIDTH)
        .mark_line(point=points, invalid="break-paths-show-domains")
        .encode(
            x=time_x(frame, window),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",.4~f")),
            color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["time:T", "panel:N", "line:N", alt.Tooltip("value:Q", format=".3~f")],
        )
        .facet(row=alt.Row("panel:N", title=None, sort=order))
        .resolve_scale(y="independent")
    )
