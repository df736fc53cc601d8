"""The page a console shows when its database cannot be reached: what happened, not a trace.

Everything the console keeps (jobs, page results, audit, warm-ups) lives in the database, so
nothing is lost while it is away: pages already written stay written, and the job runner
retries on its own. The page asks for a retry instead of guessing when it will be back.
"""

from __future__ import annotations

import logging

import streamlit as st

from console._render import escape_markdown
from console._store import StoreError

logger = logging.getLogger("console")


def show_store_unreachable(error: StoreError) -> None:
    """Replace the page with the outage notice (the message never holds a password)."""
    logger.warning("console store unreachable: %s", error)
    st.title("The console's database cannot be reached")
    st.error(escape_markdown(str(error)))
    st.markdown(
        "Nothing is lost: jobs, page results and the audit log are kept in the database, "
        "and pages finished before the outage stay finished. Jobs pause while it is away; "
        "resume them once it is back. Try again in a moment."
    )
    st.button("Try again", key="store_retry", icon=":material/refresh:")
