"""OCR workbench: start OCR jobs, watch them, read each page beside its image, export.

Jobs run in the console's worker, not here: this page only writes requests (start, cancel,
retry) to the store and draws what the store holds, so leaving, reloading or opening a
second tab changes nothing about a job.
"""

from __future__ import annotations

import streamlit as st

from console._render import escape_markdown
from console.platforms import ServiceState
from console.service import worker_problems
from console.ui import _job_panel
from console.ui._state import current_identity, get_operations, read_status

# A white page on the white app has no visible edge; a thin frame shows where it ends.
_CSS = (
    "<style>.st-key-wb_page_image img "
    "{border: 1px solid rgba(49, 51, 63, 0.25); box-sizing: border-box;}</style>"
)

st.title("OCR workbench")
st.html(_CSS)
operations = get_operations()
status = read_status(operations)
if status.state is ServiceState.UNKNOWN:
    st.warning(escape_markdown(status.detail))
elif status.state is ServiceState.DOWN:
    st.warning(
        "The OCR service is down (scaled to zero): pages sent now fail once their retries "
        "run out. Warm it up on the Service page first, then start the job."
    )
problems = worker_problems(operations.store)
if "0" in problems:
    st.error(escape_markdown(problems["0"]))
_job_panel.new_job(operations, status)
chosen_job = _job_panel.chosen_job(operations)
if chosen_job is not None:
    _job_panel.job(operations, chosen_job)
with st.expander("Job settings"):
    st.number_input(
        "Keep jobs for (days)",
        min_value=1,
        value=operations.jobs.retention_days(),
        key="wb_retention",
        help="Finished jobs older than this are deleted, with their files and results, "
        "when the worker starts.",
        on_change=lambda: operations.set_retention(
            int(st.session_state.wb_retention), identity=current_identity()
        ),
        disabled=not current_identity().can_operate,
    )
