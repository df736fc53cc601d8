"""The workbench's job panel: unreadable documents, downloads, the pages to check first and
the scores against the references. Drawn by `views/workbench.py` from what the store holds."""

from __future__ import annotations

import streamlit as st

from console import _exports
from console._references import BadReference, read_reference
from console._render import escape_markdown
from console._scores import job_scores
from console._state import current_identity
from console._workbench import JobView, pages_to_check
from console.jobs import DocumentState, JobDocument, JobRunner
from console.jobs._references import Reference, ReferenceStore


def problem(runner: JobRunner, document: JobDocument) -> None:
    name = escape_markdown(f"{document.position + 1}. {document.filename}")
    if document.state is not DocumentState.NEEDS_PASSWORD:
        st.error(f"**{name}** {escape_markdown(document.error or '')}")
        return
    st.warning(f"**{name}** {escape_markdown(document.error or '')}")
    # The raw name is the (hidden) label read by screen readers and tests; the placeholder
    # (never markdown) shows it on screen.
    label = f"Password for {document.filename}"
    password = st.text_input(
        label,
        type="password",
        key=f"wb_password_{document.id}",
        placeholder=label,
        label_visibility="collapsed",
    )
    if st.button("Unlock", key=f"wb_unlock_{document.id}") and password:
        runner.give_password(document.id, password)
        st.rerun()


def downloads(view: JobView, document: JobDocument) -> None:
    """Exports are built when clicked (deferred), not on every rerun of the page."""
    result = view.result(document)
    stem = _exports.export_stem(document.filename)
    formats = [
        ("Markdown", _exports.to_markdown, "md", "text/markdown", "wb_dl_md"),
        ("Text", _exports.to_text, "txt", "text/plain", "wb_dl_txt"),
        ("JSON", _exports.to_json, "json", "application/json", "wb_dl_json"),
    ]
    columns = st.columns(4)
    for column, (label, export, extension, mime, key) in zip(columns, formats, strict=False):
        column.download_button(
            label, lambda export=export: export(result), f"{stem}.{extension}", mime, key=key,
            on_click="ignore", icon=":material/download:",
        )  # fmt: skip
    columns[3].download_button(
        "Whole job (.zip)",
        lambda: _exports.batch_zip(view.results(), view.failures()),
        f"ocr-job-{view.job.id}.zip",
        "application/zip",
        key="wb_dl_zip",
        on_click="ignore",
        icon=":material/folder_zip:",
    )


def to_check(view: JobView) -> None:
    table = pages_to_check(view)
    if not table.empty:
        with st.expander("Pages to check first (least confident)"):
            st.dataframe(table, hide_index=True)


def scores(view: JobView, references: list[Reference]) -> None:
    """Mean CER/WER over the pages with a reference, the worst first, and what was not scored."""
    if not references:
        return
    ignore_case = st.session_state.get("wb_ignore_case", False)
    found = job_scores(view.documents, view.pages, references, ignore_case=ignore_case)
    with st.expander("Scores against the references", expanded=True):
        if found.mean_cer is not None and found.mean_wer is not None:
            cer_col, wer_col, count_col = st.columns(3)
            cer_col.metric("Mean CER", f"{found.mean_cer:.1%}")
            wer_col.metric("Mean WER", f"{found.mean_wer:.1%}")
            count_col.metric("Scored", len(found.table))
            st.caption("Worst pages first (highest character error rate).")
            st.dataframe(
                found.table,
                hide_index=True,
                key="wb_scores",
                column_config={
                    "CER": st.column_config.NumberColumn(format="percent"),
                    "WER": st.column_config.NumberColumn(format="percent"),
                },
            )
        for note in found.notes:
            st.caption(escape_markdown(note))


def attach_reference(runner: JobRunner, view: JobView, document: JobDocument) -> None:
    """Attach a reference file to a document after its job started (e.g. forgotten)."""
    if not current_identity().can_operate:
        return
    with st.expander("Attach a reference text to this document (.txt, .md)"):
        uploaded = st.file_uploader(
            "Reference text: pages separated by a form feed or a line `--- page N ---`",
            type=["txt", "md"],
            key=f"wb_ref_file_{document.id}",
        )
        if st.button("Attach", key=f"wb_ref_attach_{document.id}", disabled=uploaded is None):
            assert uploaded is not None
            try:
                reference = read_reference(uploaded.getvalue(), uploaded.name)
            except BadReference as error:
                st.error(escape_markdown(error.message))
                return
            ReferenceStore(runner.jobs.store).attach(
                view.job.id, document.id, reference.pages, origin=reference.origin,
                note=reference.note,
            )  # fmt: skip
            st.rerun()
