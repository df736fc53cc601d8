"""A backfill's buttons: cancel it, retry its failed documents, open one in the workbench.

Each goes through the door (`Operations`: operator role, audit row); what it answered is kept
in the session and said on the next draw, since the view redraws itself every few seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import streamlit as st

from console._identity import Identity, PermissionDenied
from console._render import escape_markdown
from console._store import StoreError
from console.backfill._control import NothingToRetry
from console.service import Operations
from console.service._backfill_actions import UnknownBackfill
from console.service._backfills import BackfillView
from console.ui._confirm import confirmed

WORKBENCH_PAGE = "views/workbench.py"
REFUSED = (PermissionDenied, UnknownBackfill, NothingToRetry, StoreError, OSError, ValueError)


def render_actions(operations: Operations, identity: Identity, view: BackfillView) -> None:
    backfill_id = view.record.backfill_id
    said = st.session_state.get(f"bf_said_{backfill_id}")
    if said:
        (st.error if said[0] == "error" else st.success)(escape_markdown(said[1]))
    row = st.container(horizontal=True)
    asking = f"bf_asking_cancel_{backfill_id}"
    offer_cancel = not view.finished and not view.cancelled
    if offer_cancel and row.button("Cancel backfill", key=f"bf_cancel_{backfill_id}"):
        st.session_state[asking] = True
    if st.session_state.get(asking):
        answer = confirmed(
            "Cancel this backfill? Its tasks stop at their next document; documents already "
            "written stay, and a retry later does only what is left.",
            key=f"bf_cancel_box_{backfill_id}",
        )
        if answer is not None:
            st.session_state[asking] = False
            if answer:
                _say(backfill_id, "cancel requested", operations.cancel_backfill, identity)
            st.rerun()
    failed = [f.document for f in view.status.failed] if view.status else []
    if failed and row.button(
        f"Retry {len(failed)} failed", key=f"bf_retry_{backfill_id}", type="primary"
    ):
        _say(backfill_id, "retry started as backfill {}", operations.retry_backfill, identity)
        st.rerun()
    if failed:
        _open_in_workbench(operations, identity, backfill_id, failed)


def _open_in_workbench(
    operations: Operations, identity: Identity, backfill_id: str, documents: list[str]
) -> None:
    """A failed document read again as a job of this console, opened in the workbench."""
    picked = st.selectbox(
        "Open a failed document in the workbench", documents, key=f"bf_doc_{backfill_id}"
    )
    if st.button("Open in workbench", key=f"bf_open_{backfill_id}"):
        try:
            job_id = operations.open_backfill_document(backfill_id, picked, identity=identity)
        except REFUSED as error:
            st.session_state[f"bf_said_{backfill_id}"] = ("error", str(error))
            st.rerun()
        opened = f"opened as job {job_id}: the workbench shows it"
        st.session_state[f"bf_said_{backfill_id}"] = ("ok", opened)
        # Without the app's navigation (this page run alone) there is no workbench to go to.
        with contextlib.suppress(st.errors.StreamlitAPIException):
            st.switch_page(WORKBENCH_PAGE, query_params={"job": str(job_id)})
        st.rerun()


def _say(backfill_id: str, done: str, action: Callable[..., object], identity: Identity) -> None:
    """Run the door's action; keep what to say about it for the next draw."""
    key = f"bf_said_{backfill_id}"
    try:
        answer = action(backfill_id, identity=identity)
    except REFUSED as error:
        st.session_state[key] = ("error", str(error))
        return
    st.session_state[key] = ("ok", done.format(answer))
