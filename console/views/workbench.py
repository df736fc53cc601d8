"""OCR workbench: start OCR jobs, watch them, read each page beside its image, export.

Jobs run in the console's runner, not here: this page only writes requests (start, cancel,
retry) to the store and draws what the store holds, so leaving, reloading or opening a
second tab changes nothing about a job.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from console import _exports
from console._render import escape_markdown, markdown_to_safe_html
from console._state import current_identity, get_operations, get_runner, read_status
from console._store import StoreError
from console._workbench import (
    ACCEPTED_TYPES,
    STATUS_COLOURS,
    JobView,
    Upload,
    cancel_job,
    confidence_facts,
    document_label,
    doubtful_words,
    job_label,
    jobs_frame,
    load_view,
    page_facts,
    page_image,
    pages_to_check,
    progress,
    start_job,
)
from console.jobs import DocumentState, Job, JobDocument, JobRunner, JobStatus
from console.platforms._base import ServiceState, ServiceStatus
from ocr_core import PageResult

# A white page on the white app has no visible edge; a thin frame shows where it ends. The
# page's text scrolls in its own box (TEXT_HEIGHT_PX) so the image beside it stays in view.
_CSS = (
    "<style>.st-key-wb_page_image img "
    "{border: 1px solid rgba(49, 51, 63, 0.25); box-sizing: border-box;}</style>"
)
TEXT_HEIGHT_PX = 720
REFRESH_S = 1.0
LOGS_PAGE = "views/logs.py"


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
        "Upload scans (PDF, TIFF, PNG, JPEG, WebP, BMP, GIF)",
        type=list(ACCEPTED_TYPES),
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
        operations = get_operations()
        try:
            job_id = start_job(
                runner,
                [Upload(f.name, f.getvalue()) for f in files or []],
                identity=current_identity(),
                service_url=operations.platform.service_url,
                revision=status.revision,
                use_text_layer=st.session_state.get("wb_text_layer", False),
            )
        except StoreError as error:  # nothing was started: say why, keep the files chosen
            st.error(f"The job was not started: {escape_markdown(str(error))}")
            return
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
    for document in view.problems():
        _problem(runner, document)
    to_check = pages_to_check(view)
    if not to_check.empty:
        with st.expander("Pages to check first (least confident)"):
            st.dataframe(to_check, hide_index=True)
    opened = view.opened()
    if not opened:
        return
    by_id = {d.id: d for d in opened}
    chosen = st.selectbox(
        "Document", list(by_id), format_func=lambda i: document_label(by_id[i]), key="wb_document"
    )
    _document(runner, view, by_id[chosen])


def _problem(runner: JobRunner, document: JobDocument) -> None:
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


def _downloads(view: JobView, document: JobDocument) -> None:
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


def _step(key: str, delta: int, count: int) -> None:
    """Prev/next: move the page number input (read at click time, not at render time)."""
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + delta, 1), count)


def _document(runner: JobRunner, view: JobView, document: JobDocument) -> None:
    result = view.result(document)
    st.caption(view.summary(document))
    _downloads(view, document)
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
        _page_detail(runner, view, document, page)


def _page_detail(runner: JobRunner, view: JobView, document: JobDocument, page: PageResult) -> None:
    stored = view.stored(document, page.index)
    layer = page.has_text_layer
    origin = "digital (text layer)" if layer else "scanned" if layer is False else "origin unknown"
    facts = [f":blue-badge[{origin}]"]
    if stored is None:
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
    st.markdown(" · ".join(facts + page_facts(stored) + confidence_facts(page)))
    if page.low_confidence:
        st.caption("Doubtful words: " + doubtful_words(page))
    if stored is not None and stored.request_id:
        # Suppressed when this page runs alone, without the app's other pages to link to.
        with contextlib.suppress(st.errors.StreamlitAPIException):
            st.page_link(
                LOGS_PAGE, label="Logs of this request", icon=":material/receipt_long:",
                query_params={"request_id": stored.request_id},
            )  # fmt: skip
    if page.truncated:
        st.warning("The model stopped at its token limit: the end of this page may be missing.")
    with st.container(height=TEXT_HEIGHT_PX, key="wb_page_text"):
        if stored is None:
            st.info("Not read yet: the text appears here once the page is done.")
        elif page.error is not None:
            st.error(f"Failed: {escape_markdown(str(page.error))}")
        elif not page.text.strip():
            st.info("No text on this page.")
        elif st.session_state.get("wb_raw", False):
            st.code(page.text, language=None, wrap_lines=True)
        else:
            st.markdown(markdown_to_safe_html(page.text), unsafe_allow_html=True)
    if (
        stored is not None
        and not page.ok
        and not view.job.active
        and current_identity().can_operate
        and st.button(
            "Retry page", key=f"wb_retry_{document.id}_{page.index}", icon=":material/replay:"
        )
    ):
        runner.jobs.retry_pages(view.job.id, [(document.id, page.index)])
        runner.wake()
        st.rerun()


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
