"""Metrics: a chart per metric over a chosen window, with the runbook's thresholds drawn in.

The charts redraw themselves every `REFRESH_S` (a fragment with run_every), so a page left
open follows the service without the Refresh button.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import streamlit as st

from console._render import escape_markdown
from console.metrics._cold_starts import ColdStart
from console.metrics._cost import CostReport
from console.platforms import THRESHOLDS, MetricKey, MetricSeries
from console.ui._charts import (
    CHARTS,
    VLLM_KEYS,
    combined_chart,
    line_chart,
    phases_chart,
    timeline_chart,
)
from console.ui._state import get_operations, platform_call, warm_up_table

# How often the charts read the platform again while the page is open.
REFRESH_S = 30.0
WINDOWS: dict[str, timedelta] = {
    "1 h": timedelta(hours=1),
    "6 h": timedelta(hours=6),
    "1 d": timedelta(days=1),
    "7 d": timedelta(days=7),
}
# Cold starts drawn side by side as stacked phase bars.
COLD_STARTS = 20
# Buckets of the console's own failure rate: about a chart's worth of points per window.
FAILURE_BUCKETS = 60


def _money(amount: float, unit: str) -> str:
    """Cents for real bills, more digits for the fractions of a cent a few minutes cost."""
    return f"{amount:,.2f} {unit}" if amount == 0 or amount >= 1 else f"{amount:.4f} {unit}"


def _cost_panel(report: CostReport | None, window_label: str, platform: str) -> None:
    st.subheader("Cost", anchor=False)
    if platform == "local":
        st.info(
            "The local platform has no bill: the OCR server runs on this machine. On Cloud Run "
            "this panel prices every second an instance lives (GPU, vCPU and memory, idle "
            "instances too) at the LIGHTONOCR_RATE_* rates."
        )
        return
    if report is None:
        st.info(f"No instance ran in the last {window_label}: nothing was billed.")
        return
    unit = report.currency
    cost, idle, pages = st.columns(3)
    cost.metric(
        f"Instance time, last {window_label}",
        _money(report.cost, unit),
        help=f"{report.instance_seconds / 3600:,.2f} instance-hours",
        border=True,
    )
    idle.metric(
        "Idle (instances up, no request)",
        _money(report.idle_cost, unit),
        help=f"{report.idle_instance_seconds / 3600:,.2f} instance-hours",
        border=True,
    )
    per_unit = report.pages_per_unit
    pages.metric(
        f"Pages per {unit}",
        "-" if per_unit is None else f"{per_unit:,.0f}",
        help=f"{report.requests:,.0f} pages (2xx answers)",
        border=True,
    )
    if report.per_day:
        st.dataframe(
            {
                "day (UTC)": [str(day) for day in sorted(report.per_day)],
                f"cost, {unit}": [round(report.per_day[day], 4) for day in sorted(report.per_day)],
            },
            hide_index=True,
        )
    if report.disagreement:
        st.warning(escape_markdown(report.disagreement))
    checked = (
        f" Cloud Run's billable instance time: {report.billable_seconds / 3600:,.2f} h."
        if report.billable_seconds is not None
        else ""
    )
    st.caption(
        "Estimated from the instance count x the LIGHTONOCR_RATE_GPU_S / _VCPU_S / _GIB_S "
        "rates (default: Cloud Run's published L4 prices, cloud.google.com/run/pricing); your "
        f"bill is the authority.{checked}"
    )


def _combined_section(series: list[MetricSeries], window: timedelta, platform: str) -> None:
    st.subheader("Instances beside vLLM's queue", anchor=False)
    with st.container():
        if not any(s.points for s in series if s.key in VLLM_KEYS):
            where = "its /metrics" if platform == "local" else "its /metrics (with the ID token)"
            st.caption(
                f"vLLM's queue, running requests and KV cache are scraped from {where} while "
                "an instance is up anyway (a floor above 0, or a job sending pages), so the "
                "scrape never keeps a GPU awake. None in this window yet."
            )
        chart = combined_chart(series, window)
        if chart is not None:
            st.altair_chart(chart, width="content")  # a facet chart has its own width
        else:
            st.info("No data yet for this window.")


def _cold_starts_section(colds: list[ColdStart]) -> None:
    st.subheader("Cold starts", anchor=False)
    with st.container():
        colds = [cold for cold in colds if cold.phases]
        if not colds:
            st.info(
                "No cold start with a timeline yet: a warm-up that has to start the service "
                "records where its time went (from the service's own log)."
            )
            return
        labels = [
            f"{cold.record.at.astimezone(UTC):%m-%d %H:%M:%S} ({cold.record.seconds:.0f} s)"
            for cold in colds
        ]
        chosen = st.selectbox(
            "Warm-up", range(len(colds)), format_func=labels.__getitem__, key="metrics_cold_start"
        )
        cold = colds[chosen or 0]
        slowest = max(cold.phases, key=lambda phase: phase.seconds)
        st.caption(
            f"Longest phase: **{slowest.name}**, {slowest.seconds:.1f} s of "
            f"{sum(p.seconds for p in cold.phases):.1f} s. Marks come from the service's log "
            "(vLLM, Cloud Run) and from the warm-up's own requests."
        )
        st.altair_chart(timeline_chart(cold), width="stretch")
        st.caption(f"The last {len(colds)} cold start(s), newest on top.")
        st.altair_chart(phases_chart(colds, labels), width="stretch")


@st.fragment(run_every=REFRESH_S)
def _charts(window_label: str) -> None:
    window = WINDOWS[window_label]
    operations = get_operations()
    all_series = platform_call(lambda: operations.metrics(window), "Metrics") or []
    failures = platform_call(
        lambda: operations.console_failures(window, window / FAILURE_BUCKETS), "Console failures"
    )
    if failures is not None and failures.pages:
        all_series.append(failures.series())
    breaches = operations.breaches(all_series)

    for key, style in CHARTS.items():
        series = [s for s in all_series if s.key is key]
        if not series and key in (
            MetricKey.GPU_MEMORY_UTILIZATION,
            MetricKey.GPU_UTILIZATION,
            MetricKey.CPU_UTILIZATION,
        ):
            continue  # not measured on this platform (no GPU, or no CPU metric): no empty chart
        st.subheader(style.title, anchor=False)
        # Notes above the chart, so the chart has the page's full width.
        with st.container():
            for breach in (b for b in breaches if b.key is key):
                st.error(f"**{breach.label}** {breach.hint}")
            if key in THRESHOLDS and not any(b.key is key for b in breaches):
                st.caption(
                    f"Threshold: {format(THRESHOLDS[key], style.axis_format)} (dashed line)."
                )
            if key is MetricKey.ERROR_RATE and failures is not None:
                st.caption(
                    "Two views of failure: the server's 5xx answers, and the pages the console "
                    "saw fail (also those that never reached the server). "
                    + failures.summary(window_label)
                )
            for error in dict.fromkeys(s.error for s in series if s.error):
                st.warning(f"**{style.title}** could not be read: {error}")
            drawn = [s for s in series if s.points]
            if drawn:
                chart = line_chart(drawn, style, THRESHOLDS.get(key), window)
                st.altair_chart(chart, width="stretch")
            elif not any(s.error for s in series):
                st.info(f"No data yet for the last {window_label}.")

    _combined_section(all_series, window, operations.platform.name)
    cost = platform_call(lambda: operations.cost(window), "Cost")
    _cost_panel(cost, window_label, operations.platform.name)
    _cold_starts_section(operations.cold_starts(limit=COLD_STARTS))

    st.subheader("Warm-up history", anchor=False)
    history = operations.warm_up_history(limit=50)
    if history:
        st.dataframe(
            warm_up_table(history)[["when", "outcome", "seconds", "health checks"]],
            hide_index=True,
        )
    else:
        st.info("No warm-ups recorded yet: press Warm up on the Service page.")


st.title("Metrics")
window_label = st.segmented_control(
    "Window", list(WINDOWS), default="1 h", key="metrics_window", selection_mode="single"
)
_charts(window_label or "1 h")
