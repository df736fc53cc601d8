"""Logs: recent entries newest first, filtered by severity and text, or followed live."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
import streamlit as st

from console.platforms import SEVERITIES, LogEntry, LogQuery, LogTail
from console.ui._state import LogBuffer, get_operations, platform_call

RECENT_LIMIT = 200
# The most a live tail holds in this browser session; older entries fall off.
LIVE_CAP = 1000
TAIL_EVERY_S = 2.0
ALL = "all"
# Table geometry, in pixels. Rows are one line unless a message would be cut off at the
# message column's width; then every row is tall enough (over Streamlit's 4rem) to wrap.
ROW_PX = 35
WRAPPED_ROW_PX = 66
ONE_LINE_CHARS = 120
# Tall enough to fill a laptop screen below the filters; longer lists scroll inside.
MAX_TABLE_PX = 760


@dataclass
class LiveTail:
    """A running tail and the entries it has brought so far, for one filter."""

    query: LogQuery
    tail: LogTail
    buffer: LogBuffer


def _table_height(rows: int, row_px: int) -> int:
    """The table's height: all its rows (and the header) up to `MAX_TABLE_PX`, no blank box."""
    return min(ROW_PX + rows * row_px + 3, MAX_TABLE_PX)


def _table(entries: list[LogEntry]) -> None:
    if not entries:
        st.info("No log entries match.")
        return
    long_lines = any(len(e.message) > ONE_LINE_CHARS for e in entries)
    row_px = WRAPPED_ROW_PX if long_lines else ROW_PX
    st.dataframe(
        pd.DataFrame(
            {
                "time": [e.timestamp for e in entries],
                "severity": [e.severity for e in entries],
                "message": [e.message for e in entries],
                "source": [e.source for e in entries],
            }
        ),
        hide_index=True,
        height=_table_height(len(entries), row_px),
        row_height=row_px,
        # Narrow fixed columns; the message takes the rest of the page's width.
        column_config={
            "time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss", width=150),
            "severity": st.column_config.TextColumn(width=80),
            "message": st.column_config.TextColumn(width=560),
            "source": st.column_config.TextColumn(width=70),
        },
    )


def _stop_tail() -> None:
    live: LiveTail | None = st.session_state.pop("logs_live_tail", None)
    if live is not None:
        live.tail.close()


def _start_tail(query: LogQuery) -> LiveTail:
    """Recent entries first, then a tail from the newest of them on (no gap, no repeats)."""
    operations = get_operations()
    recent = operations.logs(query)
    since = recent[0].timestamp if recent else None
    live = LiveTail(query, operations.tail(replace(query, since=since)), LogBuffer(LIVE_CAP))
    live.buffer.add(reversed(recent))
    return live


@st.fragment(run_every=TAIL_EVERY_S)
def _follow(query: LogQuery) -> None:
    """Drain the tail into the capped buffer every couple of seconds; only this part reruns."""
    live: LiveTail | None = st.session_state.get("logs_live_tail")
    if live is None or live.query != query:
        _stop_tail()
        live = platform_call(lambda: _start_tail(query), "The live tail")
        if live is None:
            return
        st.session_state.logs_live_tail = live
    drained = platform_call(live.tail.drain, "The live tail")
    live.buffer.add(drained or [])
    st.caption(
        f"Live: {len(live.buffer)} entries held (at most {LIVE_CAP}), "
        f"updated {datetime.now().strftime('%H:%M:%S')}."
    )
    _table(live.buffer.entries())


st.title("Logs")
# The workbench links a page to its request's lines (?request_id=...): filter on it once.
linked = st.query_params.get("request_id")
if linked and st.session_state.get("logs_linked") != linked:
    st.session_state.logs_linked = linked
    st.session_state.logs_text = linked
severity_col, text_col, live_col = st.columns([2, 4, 2], vertical_alignment="bottom")
severity = severity_col.selectbox(
    "Minimum severity", [ALL, *SEVERITIES], key="logs_severity", help="This level and above."
)
text = text_col.text_input("Message contains", key="logs_text", placeholder="e.g. error, POST")
follow = live_col.toggle("Live tail", key="logs_live")
query = LogQuery(
    min_severity=None if severity == ALL else severity, text=text or None, limit=RECENT_LIMIT
)

if follow:
    _follow(query)
else:
    _stop_tail()
    entries = platform_call(lambda: get_operations().logs(query), "Logs")
    if entries is not None:
        _table(entries)
