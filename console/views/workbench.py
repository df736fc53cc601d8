"""OCR workbench: start OCR jobs, watch them, read each page beside its image, export.

Jobs run in the console's runner, not here: this page only writes requests (start, cancel,
retry) to the store and draws what the store holds, so leaving, reloading or opening a
second tab changes nothing about a job.
"""

from __future__ import annotations

import streamlit as st

from console import _job_panel
from console._page_panel import page_detail
from console._references import REFERENCE_TYPES, is_reference
from console._render import escape_markdown
from console._state import current_identity, get_operations, get_runner, read_status
from console._store import StoreError
from console._workbench import (
    ACCEPTED_TYPES,
    STATUS_COLOURS,
    JobView,
    Upload,
    attach_references,
    cancel_job,
    document_label,
    job_label,
    jobs_frame,
    load_view,
    page_image,
    progress,
    start_job,
)
from console.jobs import Job, JobDocument, JobRunner, JobStatus
from console.jobs._references import Reference, ReferenceStore
from console.platforms._base import ServiceState, ServiceStatus

# A white page on the white app has no visible edge; a thin frame shows where it ends.
_CSS = (
    "<style>.st-key-wb_page_image img "
    "{border: 1px solid rgba(49, 51, 63, 0.25); box-sizing: border-box;}</style>"
)
REFRESH_S = 1.0


@st.cache_data(max_entries=64, show_spinner=False)
def _image(store: str, document_id: int, index: int, filename: str) -> bytes:
    """Cached per store, document and page (`store` keys the cache, not the read)."""
    return page_image(get_runner().jobs.document_data(document_id), filename, index)


def _open_job(job_id: int) -> None:
    """Show `job_id` from now on; it goes in the URL too, so a reload or a shared link opens it.

    Called before the job chooser is drawn (a button's handler, the chooser's callback).
    """
    st.session_state.wb_job = st.session_state.wb_open = job_id
    st.session_state.wb_url_job = str(job_id)
    st.query_params["job"] = str(job_id)


def _picked() -> None:
    _open_job(st.session_state.wb_job)


def _new_job(runner: JobRunner, status: ServiceStatus) -> None:
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
    start_col, text_layer_col = st.columns([1, 4], vertical_alignment="center")
    text_layer_col.toggle(
        "Use the PDF text layer for digital pages",
        value=False,
        key="wb_text_layer",
        help="Off: every page goes to the OCR model, so QA see what it reads. On: a PDF page "
        "with its own text uses that text (no OCR).",
    )
    if start_col.button("Start OCR job", key="wb_start", type="primary", disabled=not files):
        uploads = [Upload(f.name, f.getvalue()) for f in files or []]
        scans = [u for u in uploads if not is_reference(u.filename)]
        if not scans:
            st.warning("These are reference texts only: add the scans they belong to.")
            return
        operations = get_operations()
        try:
            job_id = start_job(
                runner,
                scans,
                identity=current_identity(),
                service_url=operations.platform.service_url,
                revision=status.revision,
                use_text_layer=st.session_state.get("wb_text_layer", False),
            )
        except StoreError as error:  # nothing was started: say why, keep the files chosen
            st.error(f"The job was not started: {escape_markdown(str(error))}")
            return
        references = [u for u in uploads if is_reference(u.filename)]
        # Kept for the session and shown with the job: the page redraws as the job runs.
        notes = st.session_state.setdefault("wb_notes", {})
        notes[job_id] = attach_references(runner, job_id, references)
        _open_job(job_id)
        st.session_state.wb_round = round_ + 1
        st.rerun()


def _chosen_job(runner: JobRunner) -> Job | None:
    """The job to show: the URL's (?job=), else the last opened, else the newest."""
    listed = runner.jobs.jobs(limit=200)
    if not listed:
        st.info("Drop scans above and start a job; each page's text is kept as soon as it is read.")
        return None

    @st.fragment(run_every=REFRESH_S if any(j.active for j in listed) else None)
    def table() -> None:
        st.dataframe(
            jobs_frame(runner.jobs.jobs(limit=200)),
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


def _progress(runner: JobRunner, job_id: int) -> None:
    """Progress and Cancel, redrawn every second while the job runs (only this part)."""
    view = load_view(runner, job_id)
    if view is None:
        return
    job = view.job
    fraction, caption = progress(job)
    st.progress(fraction, text=caption)
    can_operate = current_identity().can_operate
    if job.active:
        if can_operate and st.button("Cancel job", key="wb_cancel", icon=":material/cancel:"):
            cancel_job(runner, job_id)
            st.rerun()
    elif st.session_state.get("wb_was_active") == job_id:
        st.session_state.wb_was_active = None
        st.rerun()  # it just finished: redraw the whole page with its results
    if job.active:
        st.session_state.wb_was_active = job_id


def _job(runner: JobRunner, listed: Job) -> None:
    job_id = listed.id
    view = load_view(runner, job_id)
    if view is None:
        st.warning(f"Job {job_id} is no longer in the store (past its retention?).")
        return
    job = view.job
    if job.status is not listed.status:
        st.rerun()  # it changed while the list above was drawn: draw both from one state
    st.subheader(escape_markdown(job.name), anchor=False)
    when = job.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    facts = [f":{STATUS_COLOURS[job.status]}-badge[{job.status.value}]", f"by **{job.actor}**"]
    facts += [f"started {when}", f"service `{job.service_url}`"]
    if job.revision:
        facts.append(f"revision `{job.revision}`")
    st.markdown(" · ".join(facts))
    if job_id in runner.problems:
        st.error(runner.problems[job_id])
    elif job.error:
        st.error(escape_markdown(job.error))
    st.fragment(_progress, run_every=REFRESH_S if job.active else None)(runner, job_id)
    if not job.active and (job.status is JobStatus.CANCELLED or job.pages_failed):
        what = "Resume job" if job.status is JobStatus.CANCELLED else "Retry failed pages"
        if current_identity().can_operate and st.button(
            what, key="wb_resume", icon=":material/replay:"
        ):
            runner.jobs.resume(job_id)
            runner.wake()
            st.rerun()
    for note in st.session_state.get("wb_notes", {}).get(job_id, []):
        st.warning(escape_markdown(note))
    for document in view.problems():
        _job_panel.problem(runner, document)
    _job_panel.to_check(view)
    references = ReferenceStore(runner.jobs.store).of_job(job_id)
    _job_panel.scores(view, references)
    opened = view.opened()
    if not opened:
        return
    by_id = {d.id: d for d in opened}
    chosen = st.selectbox(
        "Document", list(by_id), format_func=lambda i: document_label(by_id[i]), key="wb_document"
    )
    _document(runner, view, by_id[chosen], references)


def _step(key: str, delta: int, count: int) -> None:
    """Prev/next: move the page number input (read at click time, not at render time)."""
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + delta, 1), count)


def _document(
    runner: JobRunner, view: JobView, document: JobDocument, references: list[Reference]
) -> None:
    result = view.result(document)
    st.caption(view.summary(document))
    _job_panel.downloads(view, document)
    _job_panel.attach_reference(runner, view, document)
    st.toggle("Raw text", key="wb_raw", help="Show the model's output as plain text.")
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
    page = result.pages[index]
    image_col, text_col = st.columns(2)
    with image_col, st.container(key="wb_page_image"):
        try:
            st.image(
                _image(runner.jobs.store.where, document.id, index, document.filename),
                caption=f"Page {index + 1} of {count}",
            )
        except Exception as error:  # the text is still worth reading if the preview fails
            st.warning(f"No preview of page {index + 1} ({type(error).__name__}).")
    with text_col:
        page_detail(runner, view, document, page, references)


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
runner = get_runner()
if 0 in runner.problems:
    st.error(runner.problems[0])
_new_job(runner, status)
chosen_job = _chosen_job(runner)
if chosen_job is not None:
    _job(runner, chosen_job)
with st.expander("Job settings"):
    st.number_input(
        "Keep jobs for (days)",
        min_value=1,
        value=runner.jobs.retention_days(),
        key="wb_retention",
        help="Finished jobs older than this are deleted, with their files and results, "
        "when the console starts.",
        on_change=lambda: runner.jobs.set_retention_days(int(st.session_state.wb_retention)),
    )
