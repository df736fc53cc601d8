"""Metrics: a chart per metric over a chosen window, with the runbook's thresholds drawn in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from console._state import get_operations, platform_call, warm_up_table
from console.platforms._base import THRESHOLDS, MetricKey, MetricSeries

# The shortest time axis drawn, so that the first samples of a new console spread out.
MIN_SPAN = timedelta(minutes=1)
WINDOWS: dict[str, timedelta] = {
    "1 h": timedelta(hours=1),
    "6 h": timedelta(hours=6),
    "1 d": timedelta(days=1),
    "7 d": timedelta(days=7),
}


@dataclass(frozen=True, slots=True)
class ChartStyle:
    title: str
    axis_format: str  # d3-format
    # Utilisations read best on a fixed 0-100% axis; None lets the data set the scale.
    domain: tuple[float, float] | None = None


# Chart order and style for each metric.
CHARTS: dict[MetricKey, ChartStyle] = {
    MetricKey.STARTUP_LATENCY_S: ChartStyle("Cold-start (startup) latency, s", ".1f"),
    MetricKey.MEMORY_UTILIZATION: ChartStyle("Memory utilisation", ".0%", (0.0, 1.0)),
    MetricKey.GPU_MEMORY_UTILIZATION: ChartStyle("GPU memory utilisation", ".0%", (0.0, 1.0)),
    MetricKey.CPU_UTILIZATION: ChartStyle("CPU utilisation", ".0%", (0.0, 1.0)),
    MetricKey.INSTANCE_COUNT: ChartStyle("Instances", "d"),
    MetricKey.REQUEST_LATENCY_S: ChartStyle("Request latency, s", ".1f"),
    MetricKey.REQUEST_COUNT: ChartStyle("Requests", "d"),
    MetricKey.ERROR_RATE: ChartStyle("Error rate", ".1%"),
}


def _time_axis(first: datetime, now: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """The x range: from the first point (not the window's start) to now, never under
    `MIN_SPAN`, never before the window.

    A new console has minutes of data in a 1-hour window; drawn over the whole window its
    points are squeezed against the right edge. The axis' times still say how recent they are.
    """
    start = max(min(first, now - MIN_SPAN), now - window)
    return start, now


def _time_format(span: timedelta) -> str:
    """Tick labels as precise as the axis needs: seconds on a new console, days on a week."""
    if span <= timedelta(minutes=15):
        return "%H:%M:%S"
    if span <= timedelta(days=1):
        return "%H:%M"
    return "%d %b %H:%M"


def _chart(
    series: list[MetricSeries], style: ChartStyle, threshold: float | None, window: timedelta
) -> alt.Chart:
    """Lines from the first point to now, with the runbook's threshold as a dashed red rule."""
    frame = pd.DataFrame(
        [(at, value, s.label) for s in series for at, value in s.points],
        columns=["time", "value", "line"],
    )
    start, end = _time_axis(frame["time"].min().to_pydatetime(), datetime.now(UTC), window)
    lines = (
        alt.Chart(frame, height=220)
        .mark_line(point=len(frame) < 50)
        .encode(
            x=alt.X(
                "time:T",
                title=None,
                scale=alt.Scale(type="utc", domain=[start.isoformat(), end.isoformat()]),
                axis=alt.Axis(format=_time_format(end - start), labelOverlap=True),
            ),
            y=alt.Y(
                "value:Q",
                title=None,
                axis=alt.Axis(format=style.axis_format),
                scale=alt.Scale(domain=list(style.domain)) if style.domain else alt.Undefined,
            ),
            color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["time:T", alt.Tooltip("value:Q", format=style.axis_format), "line:N"],
        )
    )
    if threshold is None:
        return lines
    rule = (
        alt.Chart(pd.DataFrame({"threshold": [threshold]}), height=220)
        .mark_rule(color="#d62728", strokeDash=[6, 4])
        .encode(y="threshold:Q", tooltip=[alt.Tooltip("threshold:Q", format=style.axis_format)])
    )
    return alt.layer(lines, rule)


st.title("Metrics")
window_label = st.segmented_control(
    "Window", list(WINDOWS), default="1 h", key="metrics_window", selection_mode="single"
)
window = WINDOWS[window_label or "1 h"]
operations = get_operations()
all_series = platform_call(lambda: operations.metrics(window), "Metrics") or []
breaches = operations.breaches(all_series)

for key, style in CHARTS.items():
    series = [s for s in all_series if s.key is key]
    if not series and key in (MetricKey.GPU_MEMORY_UTILIZATION, MetricKey.CPU_UTILIZATION):
        continue  # not measured on this platform (no GPU, or no CPU metric): no empty chart
    st.subheader(style.title, anchor=False)
    # Notes above the chart, so the chart has the page's full width.
    with st.container():
        for breach in (b for b in breaches if b.key is key):
            st.error(f"**{breach.label}** {breach.hint}")
        if key in THRESHOLDS and not any(b.key is key for b in breaches):
            st.caption(f"Threshold: {format(THRESHOLDS[key], style.axis_format)} (dashed line).")
        for error in dict.fromkeys(s.error for s in series if s.error):
            st.warning(f"**{style.title}** could not be read: {error}")
        drawn = [s for s in series if s.points]
        if drawn:
            st.altair_chart(_chart(drawn, style, THRESHOLDS.get(key), window), width="stretch")
        elif not any(s.error for s in series):
            st.info(f"No data yet for the last {window_label}.")

st.subheader("Warm-up history", anchor=False)
history = operations.warm_up_history(limit=50)
if history:
    st.dataframe(
        warm_up_table(history)[["when", "outcome", "seconds", "health checks"]],
        hide_index=True,
    )
else:
    st.info("No warm-ups recorded yet: press Warm up on the Service page.")
