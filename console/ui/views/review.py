"""Review: the pages the model doubts (or a person sent), and the page to correct."""

from __future__ import annotations

import streamlit as st

from console.ui._review_page import render_review_page
from console.ui._review_queue import render_queue, render_send
from console.ui._state import current_identity, get_operations

operations = get_operations()
identity = current_identity()
st.title("Review")
st.caption(
    "Pages enter the queue when the model doubts them (confidence under the threshold, "
    "doubtful words, a re-run), when their text reads the page out of its layout's order, "
    "when a person sends them, or as a sample of confident pages (threshold and sample on the "
    "Quality page). Approve (Alt+A) keeps the text; Save (Alt+S) keeps your correction. "
    "Either becomes the page's truth: its exports use it, and golden sets can be made of it."
)
render_send(operations, identity)
chosen = render_queue(operations)
if chosen is not None:
    st.subheader(f"Job {chosen[0]}, page {chosen[1]}", anchor=False)
    render_review_page(operations, identity, *chosen)
