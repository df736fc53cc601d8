"""Backfills: each backfill started from this console as one thing, read from its
destination: documents done, failed and left, its tasks, pages per second, time left, and
every failure with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from console._identity import Identity
from console._render import escape_markdown
from console.service import Operations
from console.service._backfills import BackfillView
from console.ui._backfill_actions import render_actions
from console.ui._state import current_identity, get_operations

REFRESH_S = 5.0

st.title("Backfills")
st.caption(
    "A backfill OCRs a whole folder or bucket; outputs are written beside each document's name "
    "under its destination. Start one from a shell: `python -m console.backfill run SOURCE "
    "--out DEST --local-tasks 4`, or on Cloud Run Jobs with `python -m deploy backfill run`."
)


def _duration(seconds: float | None) -> str:
    """Short enough for a metric: "40 s", "12 min", "3 h 05"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d}"


def _rate(value: float | None) -> str:
    return f"{value:.1f}" if value else "—"


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _one(view: BackfillView, operations: Operations, identity: Identity) -> None:
    record, status = view.record, view.status
    started = datetime.fromtimestamp(record.started_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    st.subheader(escape_markdown(f"{record.source} → {record.dest}"), anchor=False)
    who = f"started {started} by {record.started_by} · {record.where}"
    st.caption(escape_markdown(f"{record.backfill_id} · {who}"))
    if status is None:
        st.error(escape_markdown(f"Its destination cannot be read now: {view.problem}"))
        return
    finished = status.done + status.documents_failed
    st.progress(finished / status.documents if status.documents else 1.0)
    columns = st.columns(6)
    columns[0].metric("documents", f"{status.documents:,}")
    columns[1].metric("done", f"{status.done:,}")
    columns[2].metric("failed", f"{status.documents_failed:,}")
    columns[3].metric("left", f"{status.left:,}")
    columns[4].metric("pages/s now", _rate(status.pages_per_s_now))
    columns[5].metric("time left", _duration(status.eta_s))
    columns = st.columns(6)
    columns[0].metric("pages/s overall", _rate(status.pages_per_s))
    columns[1].metric("tasks working", f"{status.running}")
    columns[2].metric("tasks finished", f"{status.tasks_finished}")
    columns[3].metric("tasks stopped", f"{status.tasks_stopped}")
    cost, projected = view.cost, view.projected_cost
    columns[4].metric("cost so far", _money(cost.cost, cost.currency) if cost else "—")
    columns[5].metric(
        "cost projected",
        _money(projected, cost.currency) if cost and projected is not None else "—",
    )
    notes = []
    if cost is None:
        notes.append(
            "no cost: the OCR service bills nothing here (local) or its metrics are unread"
        )
    else:
        notes.append(
            "cost: the OCR service's instance time while the backfill ran, at the "
            "LIGHTONOCR_RATE_* rates (it may have served others meanwhile)"
        )
    if view.cancelled and not view.finished:
        notes.append("cancel requested: its tasks stop at their next document")
    st.caption(escape_markdown(" · ".join(notes)))
    if status.failed:
        rows = [
            {"document": f.document, "pages failed": f.failed_pages or "all", "reason": f.reason}
            for f in status.failed
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if identity.can_operate:
        render_actions(operations, identity, view)


@st.fragment(run_every=REFRESH_S)
def _backfills() -> None:
    operations, identity = get_operations(), current_identity()
    views = operations.backfills()
    if not views:
        st.info("No backfill was started from this console yet.")
    for view in views:
        with st.container(border=True):
            _one(view, operations, identity)


_backfills()
