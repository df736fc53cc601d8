"""The one confirmation box: an action that costs money or drops traffic is asked twice."""

from __future__ import annotations

import streamlit as st


def confirmed(question: str, *, key: str) -> bool | None:
    """Draw `question` (markdown) with Confirm and Cancel (keys `{key}_confirm`,
    `{key}_cancel`): True once confirmed, False once cancelled, None while it waits."""
    with st.container(border=True):
        st.warning(question)
        answer = st.container(horizontal=True)
        if answer.button("Confirm", key=f"{key}_confirm", type="primary"):
            return True
        if answer.button("Cancel", key=f"{key}_cancel"):
            return False
    return None
