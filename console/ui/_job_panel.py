"""The workbench's job panel: uploading and starting a job, choosing one, its progress,
unreadable documents, downloads, the pages to check first and the scores against the
references. Drawn by `views/workbench.py` from what the store holds; a start, cancel or
retry is a request through the one door (`console.service`) that the worker acts on."""

from __future__ import annotations

import streamlit as st

from console import _exports
from console._identity import PermissionDenied
from console._references import REFERENCE_TYPES, BadReference, is_reference, read_reference
from console._render import escape_markdown
from console._store import StoreError
from console.jobs import (
    DocumentState,
    Job,
    JobDocument,
    JobStatus,
    JobTooLarge,
    NewDocument,
    Reference,
    ReferenceStore,
)
from console.jobs._in_flight import in_flight
from console.jobs._word_files import WORD_FORMATS, job_word_files, word_file
from console.platforms import ServiceStatus
from console.service import Operations, worker_problems
from console.ui import _page_panel
from console.ui._failures import failed_pages
from console.ui._scores import MOSTLY_ORDER, job_scores
from console.ui._state import current_identity
from console.ui._workbench import (
    ACCEPTED_TYPES,
    CONFIDENT,
    JobView,
    cancel_job,
    document_label,
    in_flight_caption,
    job_label,
    jobs_frame,
    load_view,
    pages_to_check,
    progress,
    status_colour,
)
from ocr_core import engine_available

REFRESH_S = 1.0


def problem(operations: Operations, document: JobDocument) -> None:
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
        try:
            operations.unlock_document(document.id, password, identity=current_identity())
        except (PermissionDenied, StoreError) as error:
            st.error(escape_markdown(str(error)))
            return
        st.rerun()


def downloads(operations: Operations, view: JobView, document: JobDocument) -> None:
    """Exports are built when clicked (deferred), not on every rerun of the page; the files
    with the words' positions when the job located them."""
    stem = _exports.export_stem(document.filename)
    formats = [
        ("Markdown", _exports.to_markdown, "md", "text/markdown", "wb_dl_md"),
        ("Text", _exports.to_text, "txt", "text/plain", "wb_dl_txt"),
        ("JSON", _exports.to_json, "json", "application/json", "wb_dl_json"),
    ]
    columns = st.columns(4)
    for column, (label, export, extension, mime, key) in zip(columns, formats, strict=False):
        column.download_button(
            label,
            lambda export=export: export(view.full(document)),
            f"{stem}.{extension}",
            mime,
            key=key,
            on_click="ignore",
            icon=":material/download:",
        )
    jobs, job_id = operations.jobs, view.job.id
    # The words follow the text: their files are offered once every read page is located.
    words = list(WORD_FORMATS) if view.job.words_ready else []
    columns[3].download_button(
        "Whole job (.zip)",
        lambda: _exports.batch_zip(
            view.results(), view.failures(), job_word_files(jobs, job_id, words) if words else None
        ),
        f"ocr-job-{view.job.id}.zip",
        "application/zip",
        key="wb_dl_zip",
        on_click="ignore",
        icon=":material/folder_zip:",
    )
    if view.job.words_progress:
        st.caption(f"Searchable PDF, hOCR and ALTO: {view.job.words_progress}; ready when done.")
    labels = {
        "pdf": ("Searchable PDF", "application/pdf"),
        "hocr": ("hOCR", "text/html"),
        "alto": ("ALTO XML", "application/xml"),
    }
    for column, fmt in zip(st.columns(4), words, strict=False):
        label, mime = labels[fmt]
        column.download_button(
            label,
            lambda fmt=fmt: word_file(jobs, job_id, document.id, fmt),
            f"{stem}{WORD_FORMATS[fmt][0]}",
            mime,
            key=f"wb_dl_{fmt}",
            on_click="ignore",
            icon=":material/download:",
            help=WORD_FORMATS[fmt][1],
        )


def to_check(view: JobView) -> None:
    table = pages_to_check(view)
    if not table.empty:
        # Open when a page is doubtful: that is where QA should look first.
        doubtful = bool((table["confidence"] < CONFIDENT).any())
        with st.expander("Pages to check first (least confident)", expanded=doubtful):
            st.dataframe(table, hide_index=True)


def scores(view: JobView, references: list[Reference]) -> None:
    """Mean CER/WER over the pages with a reference, the worst first, and what was not scored."""
    if not references:
        return
    ignore_case = st.session_state.get("wb_ignore_case", False)
    found = job_scores(view.documents, view.full_pages(), references, ignore_case=ignore_case)
    with st.expander("Scores against the references", expanded=True):
        if found.mean_cer is not None and found.mean_wer is not None:
            cer_col, wer_col, free_col, count_col = st.columns(4)
            cer_col.metric("Mean CER", f"{found.mean_cer:.1%}")
            wer_col.metric("Mean WER", f"{found.mean_wer:.1%}")
            free_col.metric(
                "Mean order-free CER",
                f"{found.mean_order_free_cer or 0:.1%}",
                help="Misread words count, their order does not",
            )
            count_col.metric("Scored", len(found.table))
            if found.mostly_reading_order:
                st.caption(f"**{MOSTLY_ORDER}**: most of the CER is the order it was read in.")
            st.caption("Worst pages first (highest character error rate).")
            percent = st.column_config.NumberColumn(format="percent")
            st.dataframe(
                found.table,
                hide_index=True,
                key="wb_scores",
                column_config={
                    name: percent
                    for name in ("CER", "WER", "order-free CER", "word precision", "word recall")
                },
            )
        for note in found.notes:
            st.caption(escape_markdown(note))


def attach_reference(operations: Operations, view: JobView, document: JobDocument) -> None:
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
            try:
                operations.attach_document_reference(
                    view.job.id, document.id, reference, identity=current_identity()
                )
            except (PermissionDenied, StoreError) as error:
                st.error(escape_markdown(str(error)))
                return
            st.rerun()


def open_job(job_id: int) -> None:
    """Show `job_id` from now on; it goes in the URL too, so a reload or a shared link opens it.

    Called before the job chooser is drawn (a button's handler, the chooser's callback).
    """
    st.session_state.wb_job = st.session_state.wb_open = job_id
    st.session_state.wb_url_job = str(job_id)
    st.query_params["job"] = str(job_id)


def _picked() -> None:
    open_job(st.session_state.wb_job)


def new_job(operations: Operations, status: ServiceStatus) -> None:
    if not current_identity().can_operate:
        st.info("Running OCR jobs needs the operator role; you can read every job below.")
        return
    round_ = st.session_state.get("wb_round", 0)
    files = st.file_uploader(
        "Upload scans (PDF, TIFF, PNG, JPEG, WebP, BMP, GIF), and optionally their reference "
        "texts (.txt, .md, matched by file name: scan.pdf + scan.txt)",
        type=list(ACCEPTED_TYPES + REFERENCE_TYPES),
        accept_multiple_files=True,
        key=f"wb_files_{round_}",  # a new key empties the uploader once the job is started
    )
    start_col, text_layer_col, words_col = st.columns([1, 2, 2], vertical_alignment="center")
    text_layer_col.toggle(
        "Use the PDF text layer for digital pages",
        value=False,
        key="wb_text_layer",
        help="Off: every page goes to the OCR model, so QA see what it reads. On: a PDF page "
        "with its own text uses that text (no OCR).",
    )
    words_col.toggle(
        "Locate words on the page",
        value=engine_available(),
        key="wb_locate_words",
        disabled=not engine_available(),
        help="After a page is read, the worker finds where each word sits (about 1.5 s of "
        "CPU a page): the overlay on the scan, and the searchable PDF, hOCR and ALTO "
        "downloads. Needs the embedded engine (the `local` extra) in the worker.",
    )
    if start_col.button("Start OCR job", key="wb_start", type="primary", disabled=not files):
        # Scans streamed to the object store; reference texts are small and read here.
        scans = [NewDocument(f.name, f) for f in files or [] if not is_reference(f.name)]
        if not scans:
            st.warning("These are reference texts only: add the scans they belong to.")
            return
        identity = current_identity()
        try:
            job_id = operations.start_job(
                scans,
                identity=identity,
                revision=status.revision,
                use_text_layer=st.session_state.get("wb_text_layer", False),
                locate_words=bool(st.session_state.get("wb_locate_words", False)),
            )
            references = [
                NewDocument(f.name, f.getvalue()) for f in files or [] if is_reference(f.name)
            ]
            # Kept for the session and shown with the job: the page redraws as the job runs.
            notes = st.session_state.setdefault("wb_notes", {})
            notes[job_id] = operations.attach_references(job_id, references, identity=identity)
        except (PermissionDenied, StoreError, JobTooLarge) as error:  # say why, keep the files
            st.error(f"The job was not started: {escape_markdown(str(error))}")
            return
        open_job(job_id)
        st.session_state.wb_round = round_ + 1
        st.rerun()


def chosen_job(operations: Operations) -> Job | None:
    """The job to show: the URL's (?job=), else the last opened, else the newest."""
    listed = operations.jobs.jobs(limit=200)
    if not listed:
        st.info("Drop scans above and start a job; each page's text is kept as soon as it is read.")
        return None

    @st.fragment(run_every=REFRESH_S if any(j.active for j in listed) else None)
    def table() -> None:
        st.dataframe(
            jobs_frame(operations.jobs.jobs(limit=200)),
            hide_index=True,
            height=min(38 + 35 * len(listed), 250),
            column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )

    table()
    ids = [job.id for job in listed]
    in_url = st.query_params.get("job")
    if in_url != st.session_state.get("wb_url_job") and in_url and in_url.isdigit():
        st.session_state.wb_url_job = in_url  # a reload or a link: the URL says which job
        if int(in_url) in ids:
            st.session_state.wb_job = int(in_url)
    if st.session_state.get("wb_job") not in ids:
        # Back from another page (Streamlit forgot the widget): the last job opened here.
        remembered = st.session_state.get("wb_open")
        st.session_state.wb_job = remembered if remembered in ids else ids[0]
    labels = {job.id: job_label(job) for job in listed}
    chosen = st.selectbox(
        "Open job", ids, format_func=labels.__getitem__, key="wb_job", on_change=_picked
    )
    st.session_state.wb_open = chosen
    return next(job for job in listed if job.id == chosen)


def _progress(operations: Operations, view: JobView) -> None:
    """Progress, its pace and Cancel."""
    job = view.job
    fraction, caption = progress(job)
    st.progress(fraction, text=caption)
    flying = in_flight_caption(in_flight(operations.store, job.id)) if job.active else None
    if flying:
        st.caption(escape_markdown(flying))
    identity = current_identity()
    if (
        job.active
        and identity.can_operate
        and st.button("Cancel job", key="wb_cancel", icon=":material/cancel:")
    ):
        try:
            cancel_job(operations, job.id, identity)
        except (PermissionDenied, StoreError) as error:
            st.error(escape_markdown(str(error)))
            return
        st.rerun()


def job(operations: Operations, listed: Job) -> None:
    """The chosen job, redrawn from the store every second while it runs and while its words
    follow its text: its progress, its counts and the page shown follow the pages as they
    are read and located (issues 35 and 34)."""
    following = listed.active or bool(listed.words_pending)
    st.fragment(_job, run_every=REFRESH_S if following else None)(operations, listed)


def _job(operations: Operations, listed: Job) -> None:
    job_id = listed.id
    view = load_view(operations.jobs, job_id)
    if view is None:
        st.warning(f"Job {job_id} is no longer in the store (past its retention?).")
        return
    job = view.job
    if job.status is not listed.status or bool(job.words_pending) != bool(listed.words_pending):
        # Started or ended, or its words all located, since the page was drawn: draw it all
        # again from one state (and stop redrawing this part every second once it ended).
        st.rerun(scope="app")
    st.subheader(escape_markdown(job.name), anchor=False)
    when = job.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    facts = [f":{status_colour(job)}-badge[{job.outcome}]", f"by **{job.actor}**"]
    facts += [f"started {when}", f"service `{job.service_url}`"]
    if job.revision:
        facts.append(f"revision `{job.revision}`")
    st.markdown(" · ".join(facts))
    problems = worker_problems(operations.store)
    if str(job_id) in problems:
        st.error(escape_markdown(problems[str(job_id)]))
    elif job.error:
        st.error(escape_markdown(job.error))
    _progress(operations, view)
    if not job.active and (job.status is JobStatus.CANCELLED or job.pages_failed):
        what = "Resume job" if job.status is JobStatus.CANCELLED else "Retry failed pages"
        if current_identity().can_operate and st.button(
            what, key="wb_resume", icon=":material/replay:"
        ):
            try:
                operations.resume_job(job_id, identity=current_identity())
            except (PermissionDenied, StoreError) as error:
                st.error(escape_markdown(str(error)))
                return
            st.rerun(scope="app")
    for note in st.session_state.get("wb_notes", {}).get(job_id, []):
        st.warning(escape_markdown(note))
    for document in view.problems():
        problem(operations, document)
    failed_pages(view)
    to_check(view)
    references = ReferenceStore(operations.store).of_job(job_id)
    scores(view, references)
    opened = view.opened()
    if not opened:
        if job.active:
            st.info("Opening the documents: their pages appear here as soon as they are read.")
        return
    by_id = {d.id: d for d in opened}
    chosen = st.selectbox(
        "Document", list(by_id), format_func=lambda i: document_label(by_id[i]), key="wb_document"
    )
    shown = by_id[chosen]
    st.caption(view.summary(shown))
    downloads(operations, view, shown)
    attach_reference(operations, view, shown)
    _page_panel.pages(operations, view, shown, references)
