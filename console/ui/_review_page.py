"""The page to correct: the scan with its words beside an editor of the page's text,
Approve and Save, the versions (restorable), who else is on the page, and the refusal of a
save over a newer version with both texts. Drawn by `views/review.py`; every change goes
through the door, which refuses a viewer (who sees no edit control here either)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
import streamlit.components.v1 as components

from console._identity import Identity, PermissionDenied
from console._overlay import doubtful_word_indices
from console._render import escape_markdown
from console._review_overlay import (
    EDITOR_LABEL,
    review_keys_html,
    review_overlay_height,
    review_overlay_html,
)
from console._store import StoreError
from console.review import ReviewError, StaleVersion, Truth
from console.service import Operations
from console.service._review_actions import PageForReview
from console.ui._workbench import page_image
from ocr_core import ConfidenceSpan

EDITOR_HEIGHT_PX = 560


@st.cache_data(max_entries=32, show_spinner=False)
def _image(store: str, document_id: int, index: int, filename: str, _ops: Operations) -> bytes:
    """Cached per store, document and page (`store` keys the cache, not the read)."""
    return page_image(_ops.jobs.document_data(document_id), filename, index)


def render_review_page(operations: Operations, identity: Identity, job: int, number: int) -> None:
    try:
        page = operations.page_for_review(job, number)
    except ReviewError as error:
        st.error(escape_markdown(str(error)))
        return
    base_key = f"rv_base_{job}_{number}"
    st.session_state.setdefault(base_key, page.version)
    base = int(st.session_state[base_key])
    others = operations.review_presence(job, number, identity.name)
    if others:
        st.warning(f"Also on this page: {escape_markdown(', '.join(others))}.")
    _facts(page)
    if base < page.version and "rv_conflict" not in st.session_state:
        newest = page.versions[-1]
        st.info(
            f"Version {newest.version} was saved by {escape_markdown(newest.actor)} since you "
            "opened this page."
        )
        if st.button("Load the newest version", key="rv_load"):
            st.session_state[base_key] = page.version
            st.rerun()
    scan_col, text_col = st.columns(2)
    start_text = page.versions[base - 1].text if base else page.model_text
    with scan_col:
        _scan(operations, page, start_text)
    with text_col:
        _editor(operations, identity, page, base, start_text)
    _conflict()
    _versions(operations, identity, page)


def _facts(page: PageForReview) -> None:
    confidence = "-" if page.confidence is None else f"{page.confidence:.2f}"
    why = ", ".join(page.reasons) or "sent or sampled"
    st.caption(
        f"{escape_markdown(page.page.filename)} · read by {escape_markdown(page.revision or '?')}"
        f" · confidence {confidence} · in review for: {why}"
    )
    if page.model_cer is not None:
        newest = page.versions[-1]
        st.caption(
            f"CER of the model's text against the truth (version {newest.version}, "
            f"{newest.kind} by {escape_markdown(newest.actor)}): {page.model_cer:.2%}"
        )


def _scan(operations: Operations, page: PageForReview, text: str) -> None:
    ref = page.page
    try:
        image = _image(
            operations.store.where, ref.document_id, ref.page_index, ref.filename, operations
        )
    except Exception as error:  # the text is still worth correcting if the preview fails
        st.warning(f"No preview of this page ({type(error).__name__}).")
        return
    stored = operations.jobs.words.page(ref.document_id, ref.page_index)
    if stored is None or stored.words is None:
        st.image(image, caption="The words are not located on this page yet.")
        return
    spans = [] if page.versions else _model_spans(operations, page)
    doubtful = sorted(doubtful_word_indices(text, spans, stored.words)) if spans else []
    components.html(
        review_overlay_html(image, stored.words, text, doubtful),
        height=review_overlay_height(stored.words),
    )


def _model_spans(operations: Operations, page: PageForReview) -> list[ConfidenceSpan]:
    """The model's doubtful words (offsets into its text: shown only before any truth)."""
    ref = page.page
    found = operations.jobs.pages(ref.job_id, ref.document_id, index=ref.page_index)
    return list(found[0].result.low_confidence) if found else []


def _editor(
    operations: Operations, identity: Identity, page: PageForReview, base: int, text: str
) -> None:
    ref = page.page
    key = f"rv_text_{ref.job_id}_{ref.number}_{base}"
    if not identity.can_operate:
        st.text_area(EDITOR_LABEL, text, height=EDITOR_HEIGHT_PX, key=key, disabled=True)
        st.info("Correcting pages needs the operator role.")
        return
    edited = st.text_area(
        EDITOR_LABEL,
        text,
        height=EDITOR_HEIGHT_PX,
        key=key,
        help=(
            "Click a word on the scan to select it here; Alt+N selects the next doubtful word. "
            "Alt+A approves, Alt+S saves, Alt+J opens the next page waiting."
        ),
    )
    # A row that sizes each button to its label and shortcut (fixed columns cut them short).
    actions = st.container(horizontal=True)
    job, number = ref.job_id, ref.number
    if actions.button("Approve", key="rv_approve", help="Keep the text as it is", shortcut="Alt+A"):
        _act(
            lambda: operations.approve_page(job, number, base_version=base, identity=identity),
            number,
        )
    if actions.button(
        "Save", key="rv_save", type="primary", help="Keep your corrected text", shortcut="Alt+S"
    ):
        _act(
            lambda: operations.correct_page(
                job, number, edited, base_version=base, identity=identity
            ),
            number,
        )
    if saved := st.session_state.pop("rv_saved", None):
        st.success(saved)
    components.html(review_keys_html(), height=0)  # the shortcuts typed in the editor


def _act(call: Callable[[], Truth], number: int) -> None:
    """Run a change; on success the editor starts from the new version, on a refusal the
    conflict is kept to show both texts."""
    try:
        truth = call()
    except StaleVersion as refused:
        st.session_state.rv_conflict = (
            refused.newest.text,
            refused.mine,
            refused.difference,
            str(refused),
        )
    except (PermissionDenied, ReviewError, StoreError) as error:
        st.error(escape_markdown(str(error)))
    else:
        st.session_state.pop("rv_conflict", None)
        st.session_state[f"rv_base_{truth.job_id}_{number}"] = truth.version
        st.session_state.rv_saved = f"Saved as version {truth.version} ({truth.kind})."
        st.rerun()


def _conflict() -> None:
    found = st.session_state.get("rv_conflict")
    if not found:
        return
    newest, mine, difference, message = found
    st.error(escape_markdown(message))
    theirs_col, mine_col = st.columns(2)
    theirs_col.caption("The newest version")
    theirs_col.code(newest, language=None)
    mine_col.caption("Your text (not saved)")
    mine_col.code(mine, language=None)
    st.code(difference or "(no difference)", language="diff")
    if st.button("Dismiss", key="rv_dismiss"):
        del st.session_state.rv_conflict
        st.rerun()


def _versions(operations: Operations, identity: Identity, page: PageForReview) -> None:
    ref = page.page
    with st.expander(f"Versions ({len(page.versions)})", expanded=False):
        if not page.versions:
            st.caption("No truth yet: the text is the model's.")
            return
        st.dataframe(
            [
                {
                    "version": v.version,
                    "kind": v.kind,
                    "by": v.actor,
                    "when": v.at,
                    "changed from the model": v.changed,
                }
                for v in reversed(page.versions)
            ],
            hide_index=True,
        )
        chosen = st.selectbox(
            "Show version", [v.version for v in reversed(page.versions)], key="rv_version"
        )
        shown = page.versions[int(chosen) - 1]
        st.code(shown.text, language=None)
        if identity.can_operate and st.button(f"Restore version {chosen}", key="rv_restore"):
            version = int(chosen)
            _act(
                lambda: operations.restore_page(ref.job_id, ref.number, version, identity=identity),
                ref.number,
            )
