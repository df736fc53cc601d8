"""The review queue as the Review page shows it: how many pages wait and for how long, the
filters, the pages riskiest first, the one to open, and sending pages to review."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from console._identity import Identity, PermissionDenied
from console._render import count_noun, escape_markdown
from console._store import StoreError
from console.review import QueueEntry, QueueFilter, ReviewError, summary
from console.service import Operations

ALL = "all"


CURRENT = "rv_current"


def _open(labels: dict[str, tuple[int, int]]) -> None:
    """The page picked in the queue becomes the one shown (and stays after it is saved)."""
    st.session_state[CURRENT] = labels[st.session_state.rv_pick]


def _next(labels: dict[str, tuple[int, int]]) -> None:
    """The page after the one shown, in the queue's order (the riskiest when the one shown
    has left the queue, as a page does once saved)."""
    waiting = list(labels.items())
    shown = st.session_state.get(CURRENT)
    at = next((n for n, (_, page) in enumerate(waiting) if page == shown), -1)
    label, page = waiting[(at + 1) % len(waiting)]
    st.session_state[CURRENT] = page
    st.session_state.rv_pick = label


def render_queue(operations: Operations) -> tuple[int, int] | None:
    """The queue; returns the (job, page) to correct: the one picked last (in the queue or
    by number), else the riskiest waiting."""
    everything = operations.review_queue()
    job_col, type_col, revision_col = st.columns(3)
    jobs = sorted({e.page.job_id for e in everything}, reverse=True)
    job = job_col.selectbox("Job", [ALL, *jobs], key="rv_job")
    kinds = sorted({e.document_type for e in everything if e.document_type})
    kind = type_col.selectbox("Document type", [ALL, *kinds], key="rv_type")
    revisions = sorted({e.revision for e in everything if e.revision})
    revision = revision_col.selectbox("Revision", [ALL, *revisions], key="rv_revision")
    entries = operations.review_queue(
        QueueFilter(
            job_id=None if job == ALL else int(job),
            document_type=None if kind == ALL else str(kind),
            revision=None if revision == ALL else str(revision),
        )
    )
    found = summary(entries)
    waiting_col, oldest_col = st.columns(2)
    waiting_col.metric("Pages waiting", found.waiting)
    oldest_col.metric("Longest wait", found.longest_wait(datetime.now(UTC)))
    if not entries:
        st.info("No page waits for review.")
    else:
        st.dataframe([_row(e) for e in entries], hide_index=True)
        labels = {
            f"job {e.page.job_id} · page {e.page.number} · {e.page.filename}": (
                e.page.job_id,
                e.page.number,
            )
            for e in entries
        }
        pick_col, next_col = st.columns([5, 1], vertical_alignment="bottom")
        pick_col.selectbox(
            "Page to correct", list(labels), key="rv_pick", on_change=_open, args=(labels,)
        )
        next_col.button(
            "Next page",
            key="rv_next",
            on_click=_next,
            args=(labels,),
            shortcut="Alt+J",
            help="The next page waiting, in the queue's order",
        )
        st.session_state.setdefault(CURRENT, next(iter(labels.values())))
    _by_number()
    current = st.session_state.get(CURRENT)
    return None if current is None else (int(current[0]), int(current[1]))


def _by_number() -> None:
    """Open any page, reviewed or not (its versions, a restore)."""
    with (
        st.expander("Open a page by number", key="rv_open_open", on_change="rerun"),
        st.form("rv_open_form", border=False),
    ):
        job_col, page_col, open_col = st.columns([1, 1, 1], vertical_alignment="bottom")
        job = job_col.number_input("Job", min_value=1, step=1, key="rv_open_job")
        number = page_col.number_input("Page", min_value=1, step=1, key="rv_open_page")
        if open_col.form_submit_button("Open page", key="rv_open"):
            st.session_state[CURRENT] = (int(job), int(number))


def _row(entry: QueueEntry) -> dict[str, object]:
    return {
        "job": entry.page.job_id,
        "page": entry.page.number,
        "document": entry.page.filename,
        "confidence": entry.confidence,
        "doubtful words": entry.doubtful,
        "why": ", ".join(entry.reasons),
        "revision": entry.revision,
        "waiting since": entry.waiting_since,
    }


def render_send(operations: Operations, identity: Identity) -> None:
    """Send a job's pages (or all of them) to review: operators only."""
    if not identity.can_operate:
        return
    # A keyed expander keeps its open state on the server, so a rerun (the sidebar's timed
    # fragment, a job finishing) cannot fold it shut under a person's hand; the form sends
    # the job and pages with the press itself, so no click is lost to a field's blur.
    with (
        st.expander("Send pages to review", key="rv_send_open", on_change="rerun"),
        st.form("rv_send_form", border=False),
    ):
        job_col, pages_col, send_col = st.columns([1, 2, 1], vertical_alignment="bottom")
        job = job_col.number_input("Job", min_value=1, step=1, key="rv_send_job")
        pages = pages_col.text_input("Pages (e.g. 1, 3; empty: all)", key="rv_send_pages")
        if send_col.form_submit_button("Send", key="rv_send"):
            try:
                numbers = [int(p) for p in pages.replace(",", " ").split()] or None
            except ValueError:
                st.error("Pages are numbers separated by commas or spaces.")
                return
            try:
                count = operations.send_to_review(int(job), numbers, identity=identity)
            except (PermissionDenied, ReviewError, StoreError) as error:
                st.error(escape_markdown(str(error)))
            else:
                st.success(f"{count_noun(count, 'page')} of job {int(job)} sent to review.")
                if count:  # the person who sent it is the one to look at it: it opens below
                    st.session_state[CURRENT] = (int(job), min(numbers) if numbers else 1)
