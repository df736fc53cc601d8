"""The Quality page's section on corrections: what reviewers changed, per revision and week,
how well the model's doubt predicted it, and the queue's threshold and sample rate."""

from __future__ import annotations

import streamlit as st

from console._identity import Identity, PermissionDenied
from console._render import escape_markdown
from console._store import StoreError
from console.review import ReviewError, ReviewSettings
from console.service import Operations


def render_corrections(operations: Operations, identity: Identity) -> None:
    st.subheader("From corrections", anchor=False)
    st.caption(
        "Pages people reviewed (Review page), by the revision that read them and the week of "
        "their newest truth: the share changed, the CER of the model's text against the "
        "corrected text, and how well the model's doubt (confidence under the threshold, "
        "doubtful words, a re-run) predicted a change: of the changed pages, the share it "
        "caught and how many it missed; of the flagged pages, the share that needed nothing."
    )
    figures, words = operations.correction_quality()
    if not figures:
        st.info("No page has been reviewed yet.")
    else:
        shares = {
            name: st.column_config.NumberColumn(format="%.3f")
            for name in (
                "share changed",
                "CER (model vs truth)",
                "changed pages caught",
                "flagged pages that needed nothing",
            )
        }
        st.dataframe([f.to_row() for f in figures], hide_index=True, column_config=shares)
        if words:
            st.caption("Words most often corrected")
            st.dataframe(
                [{"model wrote": m, "corrected to": c, "times": n} for m, c, n in words],
                hide_index=True,
            )
    _settings(operations, identity)


def _settings(operations: Operations, identity: Identity) -> None:
    current = operations.review_settings()
    with st.expander("Which pages go to review"):
        threshold = st.number_input(
            "Confidence threshold",
            0.0,
            1.0,
            current.threshold,
            0.01,
            key="qr_threshold",
            disabled=not identity.can_operate,
        )
        rate = st.number_input(
            "Sample of confident pages",
            0.0,
            1.0,
            current.sample_rate,
            0.01,
            key="qr_rate",
            disabled=not identity.can_operate,
        )
        if identity.can_operate and st.button("Save", key="qr_save"):
            try:
                operations.set_review_settings(
                    ReviewSettings(float(threshold), float(rate)), identity=identity
                )
            except (PermissionDenied, ReviewError, StoreError) as error:
                st.error(escape_markdown(str(error)))
            else:
                st.success("Saved: the queue follows at once.")
