"""Compare: the same documents on the current service and another endpoint, page by page."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from console._compare import (
    Comparison,
    Comparisons,
    EndpointError,
    PagePair,
    Side,
    summarise,
)
from console._identity import PermissionDenied
from console._render import escape_markdown, markdown_to_safe_html
from console._store import StoreError
from console.golden import GoldenSetError, GoldenStore
from console.jobs import NewDocument
from console.ui._state import current_identity, get_operations, read_status
from console.ui._workbench import ACCEPTED_TYPES

REFRESH_S = 2.0
UPLOAD, GOLDEN = "Upload documents", "A golden set"

operations = get_operations()
comparisons = Comparisons(operations.store)
golden = GoldenStore(operations.store)
identity = current_identity()
current_url = operations.platform.service_url
st.title("Compare")
st.caption(
    f"Left: the current service ({escape_markdown(current_url)}). Right: another endpoint "
    "speaking the same API: a tagged Cloud Run revision URL, a second service, a local server."
)


def new_comparison() -> None:
    other = st.text_input("Other endpoint URL", key="cmp_url", placeholder="https://…")
    source = st.radio("Documents", [UPLOAD, GOLDEN], horizontal=True, key="cmp_source")
    files, set_name = [], None
    if source == UPLOAD:
        files = (
            st.file_uploader(
                "Scans",
                accept_multiple_files=True,
                key="cmp_files",
                type=list(ACCEPTED_TYPES),
            )
            or []
        )
    else:
        names = [s.name for s in golden.sets()]
        set_name = st.selectbox("Golden set", names, key="cmp_set") if names else None
        if not names:
            st.info("No golden set registered yet (see the Quality page).")
    if st.button("Compare", key="cmp_start", type="primary", disabled=not (files or set_name)):
        try:
            started = operations.start_comparison(
                other,
                documents=[NewDocument(f.name, f.getvalue()) for f in files],
                golden_set=set_name,
                revision=read_status(operations).revision,
                identity=identity,
            )
            st.session_state.cmp_open = started.id
        except (PermissionDenied, EndpointError, GoldenSetError, StoreError) as error:
            st.error(escape_markdown(str(error)))


if identity.can_operate:
    with st.expander("New comparison", expanded=not comparisons.recent(1)):
        new_comparison()
else:
    st.info("Starting a comparison needs the operator role; past comparisons are below.")


def _side(column: DeltaGenerator, url: str, side: Side) -> None:
    column.caption(escape_markdown(url))
    if not side.done:
        column.info("not read yet")
        return
    facts = [f"{side.latency_s or 0:.2f} s"]
    if side.error is None:
        facts.append(f"{side.prompt_tokens} + {side.completion_tokens} tokens")
    if side.cer is not None:
        facts.append(f"CER {side.cer:.3f}")
    column.caption(" · ".join(facts))
    if side.error is not None:
        column.error(escape_markdown(side.error))
    else:
        column.markdown(markdown_to_safe_html(side.text or ""), unsafe_allow_html=True)


def _page(comparison: Comparison, pair: PagePair) -> None:
    st.subheader(f"{escape_markdown(pair.document)} · page {pair.page + 1}", anchor=False)
    left, right = st.columns(2)
    _side(left, comparison.left_url, pair.left)
    _side(right, comparison.right_url, pair.right)
    if pair.left.text is not None and pair.right.text is not None:
        st.caption(
            "Word diff, left → right: ~~struck~~ only on the left, underlined only on the right"
        )
        st.markdown(pair.diff_html(), unsafe_allow_html=True)


def _comparison(recent: list[Comparison]) -> None:
    """A past comparison, side by side (only when one exists: no st.stop(), which would also
    stop the sidebar drawn after the page)."""
    ids = [c.id for c in recent]
    if st.session_state.get("cmp_open") in ids:
        st.session_state.cmp_pick = st.session_state.pop("cmp_open")
    chosen_id = st.selectbox(
        "Comparison",
        ids,
        key="cmp_pick",
        format_func=lambda i: next(c.label for c in recent if c.id == i),
    )

    def shown() -> None:
        comparison = comparisons.get(chosen_id)
        if comparison is None:
            st.warning("This comparison is gone.")
            return
        problems = comparisons.problems(comparison)
        for problem in problems:
            st.error(escape_markdown(problem))
        pairs = comparisons.pages(comparison, golden)
        if comparisons.finished(comparison):
            summaries = summarise(pairs, problems)
            sentences = " ".join(summary.sentence() for summary in summaries)
            if all(summary.complete for summary in summaries):
                st.success(f"Complete. {sentences}")
            else:
                st.error(
                    f"**Incomplete**: not every page was read, so the scores cover only the "
                    f"pages read. {sentences}"
                )
        if not pairs and comparisons.finished(comparison):
            st.info("Nothing was read on either side.")
        elif not pairs:
            st.info("Opening the documents…")
        for pair in pairs:
            _page(comparison, pair)

    selected = comparisons.get(chosen_id)
    running = selected is not None and not comparisons.finished(selected)
    st.fragment(shown, run_every=REFRESH_S if running else None)()


recent = comparisons.recent()
if recent:
    _comparison(recent)
else:
    st.info("No comparison yet.")
