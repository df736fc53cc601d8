"""OCR workbench: upload scans, watch pages come back, read each beside its image, export."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from console import _exports
from console._render import count_noun, escape_markdown, markdown_to_safe_html
from console._state import get_client, get_operations, read_status
from console._workbench import (
    ACCEPTED_TYPES,
    Batch,
    FileEntry,
    FileState,
    Finished,
    Opened,
    PageDone,
    TextDelta,
    Tick,
    Upload,
    retry_page,
    run_document,
)
from console.platforms._base import ServiceState
from ocr_core import OCRError, SyncOCRClient

# A white page on the white app has no visible edge; a thin frame shows where it ends.
_PAGE_IMAGE_CSS = (
    "<style>.st-key-wb_page_image img "
    "{border: 1px solid rgba(49, 51, 63, 0.25); box-sizing: border-box;}</style>"
)
# Streamed text is redrawn at most this often; redrawing on every token would swamp the page.
_STREAM_REDRAW_S = 0.15
_STREAM_TAIL_CHARS = 2000


def _batch() -> Batch:
    if "wb_batch" not in st.session_state:
        st.session_state.wb_batch = Batch()
    return st.session_state.wb_batch


def _run_pending(batch: Batch, live: DeltaGenerator) -> None:
    """OCR the files not yet read; the live view goes once they are all done."""
    client = get_client(
        stream=st.session_state.get("wb_stream", True),
        use_text_layer=st.session_state.get("wb_text_layer", False),
    )
    with live.container():
        for entry in batch.pending():
            _run_live(entry, client)
    live.empty()


def _run_live(entry: FileEntry, client: SyncOCRClient) -> None:
    """One file: a progress bar with a clock, streamed text, and each page as it finishes."""
    st.markdown(f"**{escape_markdown(entry.filename)}**")
    bar = st.progress(0.0, text="opening…")
    streaming = st.empty()
    finished = st.container()
    streamed: dict[int, str] = {}
    started = last_redraw = time.monotonic()
    for event in run_document(entry, client):
        if isinstance(event, Opened | Tick | PageDone):
            done, total = entry.finished_pages, max(entry.page_count, 1)
            clock = f"{time.monotonic() - started:.0f} s"
            pages = count_noun(entry.page_count, "page")
            bar.progress(done / total, text=f"{done} / {pages} · {clock}")
        if isinstance(event, TextDelta):
            streamed[event.page_index] = streamed.get(event.page_index, "") + event.delta
            if time.monotonic() - last_redraw > _STREAM_REDRAW_S:
                tail = streamed[event.page_index][-_STREAM_TAIL_CHARS:]
                streaming.text(f"page {event.page_index + 1}, streaming…\n\n{tail}")
                last_redraw = time.monotonic()
        elif isinstance(event, PageDone):
            page = event.result
            streamed.pop(page.index, None)
            verdict = f"{page.latency_s:.1f} s" if page.ok else "failed"
            if page.source == "text_layer":
                verdict += " · from the PDF text layer"
            with finished.expander(f"Page {page.index + 1} · {verdict}"):
                _page_text(page.text, page.error, raw=False)
        elif isinstance(event, Finished):
            streaming.empty()


def _page_text(text: str, error: OCRError | None, *, raw: bool) -> None:
    if error is not None:
        st.error(f"Failed: {escape_markdown(str(error))}")
    elif not text.strip():
        st.info("No text on this page.")
    elif raw:
        st.code(text, language=None, wrap_lines=True)
    else:
        st.markdown(markdown_to_safe_html(text), unsafe_allow_html=True)


def _file_problem(entry: FileEntry) -> None:
    name = escape_markdown(entry.filename)
    if entry.state is FileState.NEEDS_PASSWORD:
        st.warning(f"**{name}** {escape_markdown(entry.error or '')}")
        # A widget's label is markdown on screen but its accessible name is the raw string, so
        # no escaping suits both: the raw name is the (hidden) label, read by screen readers
        # and tests, and the placeholder (never markdown) shows it on screen.
        label = f"Password for {entry.filename}"
        password = st.text_input(
            label,
            type="password",
            key=f"wb_password_{entry.file_id}",
            placeholder=label,
            label_visibility="collapsed",
        )
        if st.button("Unlock", key=f"wb_unlock_{entry.file_id}") and password:
            entry.password = password
            entry.state = FileState.PENDING
            st.rerun()
    else:
        st.error(f"**{name}** {escape_markdown(entry.error or '')}")


def _downloads(batch: Batch, entry: FileEntry) -> None:
    """Exports are built when clicked (deferred), not on every rerun of the page."""
    stem = _exports.export_stem(entry.filename)
    formats = [
        ("Markdown", _exports.to_markdown, "md", "text/markdown", "wb_dl_md"),
        ("Text", _exports.to_text, "txt", "text/plain", "wb_dl_txt"),
        ("JSON", _exports.to_json, "json", "application/json", "wb_dl_json"),
    ]
    columns = st.columns(4)
    for column, (label, export, extension, mime, key) in zip(columns, formats, strict=False):
        column.download_button(
            label,
            lambda export=export: export(entry.result()),
            f"{stem}.{extension}",
            mime,
            key=key,
            on_click="ignore",
            icon=":material/download:",
        )
    columns[3].download_button(
        "Whole batch (.zip)",
        lambda: _exports.batch_zip(batch.results(), batch.failures()),
        "ocr-batch.zip",
        "application/zip",
        key="wb_dl_zip",
        on_click="ignore",
        icon=":material/folder_zip:",
    )


def _step(key: str, delta: int, count: int) -> None:
    """Prev/next: move the page number input (read at click time, not at render time)."""
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + delta, 1), count)


def _page_view(entry: FileEntry) -> None:
    count = entry.page_count
    key = f"wb_page_{entry.file_id}"
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
    page = entry.result().pages[index]

    image_col, text_col = st.columns(2)
    with image_col, st.container(key="wb_page_image"):
        try:
            st.image(entry.page_image(index), caption=f"Page {index + 1} of {count}")
        except Exception as error:  # the text is still worth reading if the preview fails
            st.warning(f"No preview of page {index + 1} ({type(error).__name__}).")
    with text_col:
        layer = page.has_text_layer
        origin = (
            "digital (text layer)" if layer else "scanned" if layer is False else "origin unknown"
        )
        if page.source == "text_layer":
            facts = [
                f":blue-badge[{origin}]",
                ":green-badge[source: PDF text layer, not OCR]",
                f"latency **{page.latency_s:.2f} s**",
            ]
        else:
            facts = [
                f":blue-badge[{origin}]",
                ":violet-badge[source: OCR]",
                f"latency **{page.latency_s:.2f} s**",
                f"tokens **{page.prompt_tokens}** in / **{page.completion_tokens}** out",
                f"**{page.attempts}** attempt{'' if page.attempts == 1 else 's'}",
                ":orange-badge[truncated]" if page.truncated else "not truncated",
            ]
        st.markdown(" · ".join(facts))
        if page.truncated:
            st.warning("The model stopped at its token limit: the end of this page may be missing.")
        _page_text(page.text, page.error, raw=st.session_state.get("wb_raw", False))
        if not page.ok and st.button("Retry page", key=f"wb_retry_{entry.file_id}_{index}"):
            with st.spinner(f"Retrying page {index + 1}…"):
                retry_page(entry, index, get_client(stream=False))
            st.rerun()


def _document(batch: Batch, entry: FileEntry) -> None:
    result = entry.result()
    summary = (
        f"{count_noun(result.page_count, 'page')} · {result.ok_count} read · "
        f"{result.failed_count} failed · "
        f"{result.truncated_count} truncated · {result.wall_time_s:.1f} s"
    )
    st.caption(summary)
    if result.failed_count:
        failed = ", ".join(str(i + 1) for i in entry.failed_pages)
        st.warning(f"Failed pages: {failed}. Retry them all, or open one and press Retry page.")
        if st.button("Retry failed pages", key="wb_retry_failed", icon=":material/replay:"):
            pages = entry.failed_pages
            bar = st.progress(0.0, text=f"retrying {count_noun(len(pages), 'page')}…")
            for done, index in enumerate(pages, start=1):
                retry_page(entry, index, get_client(stream=False))
                retried = f"retried {done} / {count_noun(len(pages), 'page')}"
                bar.progress(done / len(pages), text=retried)
            st.rerun()
    _downloads(batch, entry)
    st.toggle("Raw text", key="wb_raw", help="Show the model's output as plain text.")
    _page_view(entry)


st.title("OCR workbench")
st.html(_PAGE_IMAGE_CSS)
operations = get_operations()
status = read_status(operations)
if isinstance(status, str):
    st.warning(status)
elif status.state is ServiceState.DOWN:
    st.warning(
        "The OCR service is down (scaled to zero): pages will wait for a cold start. "
        "Warm it up on the Service page first."
    )

batch = _batch()
uploaded = st.file_uploader(
    "Upload scans (PDF, TIFF, PNG, JPEG, WebP)",
    type=list(ACCEPTED_TYPES),
    accept_multiple_files=True,
    # A new key empties the uploader when the batch is cleared.
    key=f"wb_files_{st.session_state.get('wb_round', 0)}",
)
# Added before the controls below are drawn, so "Clear batch" is there from the first upload.
batch.add(Upload(f.file_id, f.name, f.getvalue()) for f in uploaded or [])
stream_col, text_layer_col, clear_col = st.columns([2, 3, 1])
stream_col.toggle("Stream text as it arrives", value=True, key="wb_stream")
text_layer_col.toggle(
    "Use the PDF text layer for digital pages",
    value=False,
    key="wb_text_layer",
    help="Off: every page goes to the OCR model, so QA see what it reads. On: a PDF page "
    "with its own text uses that text (no OCR). Applies to files read after the change.",
)
if batch.entries and clear_col.button("Clear batch", key="wb_clear", icon=":material/delete:"):
    batch.entries.clear()
    st.session_state.wb_round = st.session_state.get("wb_round", 0) + 1
    st.rerun()
# Drawn on every run, busy or not, so the elements below keep their place in the page: a
# widget that moves between reruns lingers as a stale duplicate in the browser.
live = st.empty()
if batch.pending():
    _run_pending(batch, live)

for problem in batch.entries.values():
    if problem.state in (FileState.FAILED, FileState.NEEDS_PASSWORD):
        _file_problem(problem)

documents = batch.documents()
if documents:
    if len(documents) > 1:
        chosen_id = st.selectbox(
            "Document",
            [e.file_id for e in documents],
            format_func=lambda file_id: batch.entries[file_id].filename,
            key="wb_document",
        )
        chosen = batch.entries[chosen_id]
    else:
        chosen = documents[0]
    st.subheader(escape_markdown(chosen.filename), anchor=False)
    _document(batch, chosen)
elif not batch.entries:
    st.info("Drop scans above; each page's text appears as soon as it is read.")
