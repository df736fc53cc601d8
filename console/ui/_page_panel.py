"""The workbench's page panel: one page's facts, its text, its score against the reference
and the controls to read it again. Drawn by `views/workbench.py`; no OCR happens here (a
retry is a request through the one door that the worker acts on)."""

from __future__ import annotations

import contextlib

import streamlit as st
import streamlit.components.v1 as components

from console._identity import PermissionDenied
from console._overlay import (
    Marks,
    differing_word_indices,
    doubtful_word_indices,
    overlay_height,
    overlay_html,
)
from console._render import escape_markdown, markdown_to_safe_html
from console._store import StoreError
from console.jobs import JobDocument, Reference
from console.service import Operations
from console.ui._diff_view import CSS, DIFF_KEY, LEGEND, TEXT_KEY, diff_html, doubtful_html
from console.ui._scores import measures, page_truth
from console.ui._state import current_identity, get_operations
from console.ui._workbench import (
    JobView,
    confidence_facts,
    doubtful_words,
    page_facts,
    page_image,
    words_missing,
)
from ocr_core import PageResult, Sampling

TEXT_HEIGHT_PX = 720
LOGS_PAGE = "views/logs.py"
# The text shown of one page: a real page is a few thousand characters; a page stored at
# the console's bound (1 Mi characters, jobs/_rows.py) is shown up to here, and says so.
MAX_SHOWN_CHARS = 100_000


def _source_facts(page: PageResult, stored: bool) -> list[str]:
    layer = page.has_text_layer
    origin = "digital (text layer)" if layer else "scanned" if layer is False else "origin unknown"
    facts = [f":blue-badge[{origin}]"]
    if not stored:
        facts.append(":gray-badge[waiting]")
    elif page.error is not None and page.attempts == 0:
        facts.append(":red-badge[never reached the service]")
    elif page.source == "text_layer":
        facts += [
            ":green-badge[source: PDF text layer, not OCR]",
            f"latency **{page.latency_s:.2f} s**",
        ]
    else:
        facts += [
            ":violet-badge[source: OCR]",
            f"latency **{page.latency_s:.2f} s**",
            f"tokens **{page.prompt_tokens}** in / **{page.completion_tokens}** out",
            f"**{page.attempts}** attempt{'' if page.attempts == 1 else 's'}",
            ":orange-badge[truncated]" if page.truncated else "not truncated",
        ]
    return facts


def sampling_badge(sampling: Sampling | None) -> list[str]:
    if sampling is None:
        return []
    names = {
        "temperature": "temperature",
        "repetition_penalty": "repetition penalty",
        "max_tokens": "max tokens",
    }
    chosen = ", ".join(f"{names[k]} {v}" for k, v in sampling.to_dict().items())
    return [f":gray-badge[re-run with {chosen}]"]


def page_detail(
    operations: Operations,
    view: JobView,
    document: JobDocument,
    page: PageResult,
    references: list[Reference],
) -> None:
    stored = view.stored(document, page.index)
    st.html(CSS)
    facts = _source_facts(page, stored is not None) + page_facts(stored) + confidence_facts(page)
    st.markdown(" · ".join(facts + sampling_badge(stored.sampling if stored else None)))
    if page.low_confidence:
        st.caption("Doubtful words (underlined in the text): " + doubtful_words(page))
    if stored is not None and stored.request_id:
        # Suppressed when this page runs alone, without the app's other pages to link to.
        with contextlib.suppress(st.errors.StreamlitAPIException):
            st.page_link(
                LOGS_PAGE,
                label="Logs of this request",
                icon=":material/receipt_long:",
                query_params={"request_id": stored.request_id},
            )
    if page.truncated:
        st.warning("The model stopped at its token limit: the end of this page may be missing.")
    text = page.text[:MAX_SHOWN_CHARS]
    if len(page.text) > MAX_SHOWN_CHARS:
        st.caption(f"Showing the first {MAX_SHOWN_CHARS:,} characters of {len(page.text):,}.")
    with st.container(height=TEXT_HEIGHT_PX, key=TEXT_KEY):
        if stored is None:
            st.info("Not read yet: the text appears here once the page is done.")
        elif page.error is not None:
            st.error(f"Failed: {escape_markdown(str(page.error))}")
        elif not text.strip():
            st.info("No text on this page.")
        elif st.session_state.get("wb_raw", False):
            st.code(text, language=None, wrap_lines=True)
        elif page.low_confidence:
            st.markdown(doubtful_html(text, page.low_confidence), unsafe_allow_html=True)
        else:
            st.markdown(markdown_to_safe_html(text), unsafe_allow_html=True)
    _truth(operations, view, document, page, references, stored is not None)
    if stored is not None and not view.job.active and current_identity().can_operate:
        _read_again(operations, view, document, page)


def _truth(
    operations: Operations,
    view: JobView,
    document: JobDocument,
    page: PageResult,
    references: list[Reference],
    stored: bool,
) -> None:
    """The page's score and diff against its reference, and the box to paste one."""
    ignore_case = st.session_state.get("wb_ignore_case", False)
    truth = page_truth(references, document, page, stored, ignore_case=ignore_case)
    if truth.reference is not None:
        st.markdown(f"**Against the reference** ({escape_markdown(truth.reference.origin)})")
        if truth.reference.note:
            st.warning(escape_markdown(truth.reference.note))
    if truth.message:
        st.info(truth.message)
    if truth.score is not None:
        measures(truth.score.measures)
        st.toggle("Ignore case", key="wb_ignore_case")
        with st.container(key=DIFF_KEY):
            st.caption(LEGEND, unsafe_allow_html=True)
            st.markdown(diff_html(truth.score.diff), unsafe_allow_html=True)
    if current_identity().can_operate:
        _paste(operations, view, document, page, truth.reference)


def _paste(
    operations: Operations,
    view: JobView,
    document: JobDocument,
    page: PageResult,
    current: Reference | None,
) -> None:
    key = f"{document.id}_{page.index}"
    own = current is not None and current.page_index == page.index
    with st.expander("Reference text of this page (ground truth)", expanded=False):
        text = st.text_area(
            "Paste what the page says",
            value=current.text if own and current is not None else "",
            key=f"wb_ref_text_{key}",
            height=200,
        )
        save_col, remove_col = st.columns(2)
        chosen: str | None = text
        if save_col.button("Save reference", key=f"wb_ref_save_{key}"):
            if not text.strip():
                st.warning("The reference is empty: paste the page's text first.")
                return
        elif own and remove_col.button("Remove reference", key=f"wb_ref_remove_{key}"):
            chosen = None
        else:
            return
        try:
            operations.set_page_reference(
                view.job.id, document.id, page.index, chosen, identity=current_identity()
            )
        except (PermissionDenied, StoreError) as error:
            st.error(escape_markdown(str(error)))
            return
        st.rerun()


def _read_again(
    operations: Operations, view: JobView, document: JobDocument, page: PageResult
) -> None:
    """Retry a failed page as it was, or read any page again with chosen sampling."""
    key = f"{document.id}_{page.index}"
    if not page.ok and st.button("Retry page", key=f"wb_retry_{key}", icon=":material/replay:"):
        _retry(operations, view, document, page, None)
    with st.expander("Read this page again with other sampling"):
        temperature_col, penalty_col, tokens_col = st.columns(3)
        temperature = temperature_col.number_input(
            "Temperature",
            0.0,
            2.0,
            0.7,
            0.1,
            key=f"wb_temperature_{key}",
            help="Higher varies the answer more; the default request uses 0.2.",
        )
        penalty = penalty_col.number_input(
            "Repetition penalty",
            0.5,
            2.0,
            1.1,
            0.05,
            key=f"wb_penalty_{key}",
            help="Above 1 discourages loops (vLLM's repetition_penalty; 1 is none).",
        )
        max_tokens = tokens_col.number_input(
            "Max tokens",
            16,
            16384,
            4096,
            256,
            key=f"wb_max_tokens_{key}",
            help="Capped at what the service's context holds.",
        )
        if st.button("Re-run page", key=f"wb_rerun_{key}", icon=":material/tune:"):
            chosen = Sampling(float(temperature), float(penalty), int(max_tokens))
            _retry(operations, view, document, page, chosen)


def _retry(
    operations: Operations,
    view: JobView,
    document: JobDocument,
    page: PageResult,
    sampling: Sampling | None,
) -> None:
    try:
        operations.retry_page(
            view.job.id, document.id, page.index, sampling=sampling, identity=current_identity()
        )
    except (PermissionDenied, StoreError) as error:
        st.error(escape_markdown(str(error)))
        return
    st.rerun()


@st.cache_data(max_entries=64, show_spinner=False)
def _image(store: str, document_id: int, index: int, filename: str) -> bytes:
    """Cached per store, document and page (`store` keys the cache, not the read)."""
    return page_image(get_operations().jobs.document_data(document_id), filename, index)


def _step(key: str, delta: int, count: int) -> None:
    """Prev/next: move the page number input (read at click time, not at render time)."""
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + delta, 1), count)


def pages(
    operations: Operations, view: JobView, document: JobDocument, references: list[Reference]
) -> None:
    """The document's pages, one at a time: the image beside its text and score."""
    raw_col, words_col, _ = st.columns([1, 1, 3])
    raw_col.toggle("Raw text", key="wb_raw", help="Show the model's output as plain text.")
    words_col.toggle(
        "Words on the page",
        key="wb_words",
        help="Draw where each word sits on the scan: click a word, find one, see the doubtful "
        "ones and those the reference does not have, and the order the text reads the blocks.",
    )
    count, key = document.page_count, f"wb_page_{document.id}"
    if count > 1:
        previous_col, number_col, next_col, _ = st.columns(
            [1, 2, 1, 6], vertical_alignment="bottom"
        )
        current = int(st.session_state.get(key, 1))
        previous_col.button(
            "Previous", key="wb_prev", disabled=current <= 1, on_click=_step, args=(key, -1, count)
        )
        next_col.button(
            "Next", key="wb_next", disabled=current >= count, on_click=_step, args=(key, 1, count)
        )
        number = number_col.number_input(
            f"Page (of {count})", min_value=1, max_value=count, step=1, key=key
        )
    else:
        number = 1
    index = int(number) - 1
    page = view.page(document, index)  # the one page shown, with its text
    image_col, text_col = st.columns(2)
    with image_col:
        if st.session_state.get("wb_words", False):
            _words(operations, view, document, page, references)
        else:
            _scan(operations, document, index, count)
    with text_col:
        page_detail(operations, view, document, page, references)


def _scan(operations: Operations, document: JobDocument, index: int, count: int) -> None:
    with st.container(key="wb_page_image"):
        try:
            st.image(
                _image(operations.store.where, document.id, index, document.filename),
                caption=f"Page {index + 1} of {count}",
            )
        except Exception as error:  # the text is still worth reading if the preview fails
            st.warning(f"No preview of page {index + 1} ({type(error).__name__}).")


def _words(
    operations: Operations,
    view: JobView,
    document: JobDocument,
    page: PageResult,
    references: list[Reference],
) -> None:
    """The scan with its located words drawn over it, or why there are none yet."""
    stored = operations.jobs.words.page(document.id, page.index)
    if stored is None or stored.words is None:
        st.info(words_missing(view.job, page, stored))
        _scan(operations, document, page.index, document.page_count)
        return
    ignore_case = st.session_state.get("wb_ignore_case", False)
    truth = page_truth(references, document, page, True, ignore_case=ignore_case)
    differs = frozenset[int]()
    if truth.score is not None:
        differs = differing_word_indices(truth.score.diff, stored.words)
    doubtful = doubtful_word_indices(page.text, page.low_confidence, stored.words)
    try:
        image = _image(operations.store.where, document.id, page.index, document.filename)
    except Exception as error:  # the words without their scan say nothing: say why instead
        st.warning(f"No preview of page {page.index + 1} ({type(error).__name__}).")
        return
    overlay = overlay_html(image, stored.words, Marks(doubtful=doubtful, differs=differs))
    components.html(overlay, height=overlay_height(stored.words))
