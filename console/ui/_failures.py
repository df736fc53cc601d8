"""A job's failed pages, one click from the job: each opens its page in the page panel.

A job done with failures (issue 35, item 3) says so in its badge; this list says which pages
and why, and a click shows the page (its image, its error, its Retry button).
"""

from __future__ import annotations

import streamlit as st

from console._render import escape_markdown
from console.ui._workbench import JobView

# More failed pages than this are summed up after the first ones (a 3,000-page job whose
# service was down would draw 3,000 buttons every second).
SHOWN = 20


def show_page(document_id: int, index: int) -> None:
    """Open `index` of `document_id` in the page panel (a button's callback: before the
    document chooser and the page number are drawn)."""
    st.session_state.wb_document = document_id
    st.session_state[f"wb_page_{document_id}"] = index + 1


def failed_pages(view: JobView) -> None:
    """The job's failed pages, each with a button that opens it."""
    failed = [stored for stored in view.pages if stored.result.error is not None]
    if not failed:
        return
    names = {d.id: f"{d.position + 1}. {d.filename}" for d in view.documents}
    with st.expander(f"Failed pages ({len(failed)})", expanded=not view.job.active):
        for stored in failed[:SHOWN]:
            name = names.get(stored.document_id, "?")
            label_col, open_col = st.columns([5, 1], vertical_alignment="center")
            label_col.markdown(
                f"**{escape_markdown(name)}**, page {stored.index + 1}: "
                f"{escape_markdown(str(stored.result.error))}"
            )
            open_col.button(
                "Open page",
                key=f"wb_failed_{stored.document_id}_{stored.index}",
                on_click=show_page,
                args=(stored.document_id, stored.index),
            )
        if len(failed) > SHOWN:
            st.caption(
                f"… and {len(failed) - SHOWN} more failed pages (`python -m console.jobs "
                f"show {view.job.id}` lists them all)."
            )
