"""The batch behind the OCR workbench: uploaded files, their pages' results, retries.

The page only renders; everything it shows comes from here. A document runs in a worker
thread so the page's script thread can keep drawing: `run_document` yields events (streamed
text, finished pages) in the caller's thread as they arrive, which is where Streamlit
elements may be updated.
"""

from __future__ import annotations

import enum
import io
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from ocr_core import (
    CorruptDocument,
    DocumentResult,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    OCRError,
    PageLimitExceeded,
    PageResult,
    StreamChunk,
    SyncOCRClient,
    UnsupportedDocument,
    load_document,
)

ACCEPTED_TYPES: tuple[str, ...] = ("pdf", "tif", "tiff", "png", "jpg", "jpeg", "webp")
# Page images kept for display: big enough to read, small enough for a batch in memory.
DISPLAY_LONGEST_SIDE = 1200
_POLL_S = 0.1
# While nothing arrives, a `Tick` this often keeps the page's clock (and Streamlit's ability
# to stop the run when the user navigates away) alive through a long page.
TICK_S = 0.5


class FileState(enum.StrEnum):
    PENDING = "pending"
    NEEDS_PASSWORD = "needs_password"
    FAILED = "failed"
    DONE = "done"


@dataclass
class FileEntry:
    """One uploaded file and everything known about it so far."""

    file_id: str
    filename: str
    data: bytes = field(repr=False)
    state: FileState = FileState.PENDING
    # Why the file as a whole could not be read (bad file, wrong password); None otherwise.
    error: str | None = None
    page_count: int = 0
    pages: dict[int, PageResult] = field(default_factory=dict)
    password: str | None = field(default=None, repr=False)
    wall_time_s: float = 0.0
    _images: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def finished_pages(self) -> int:
        return len(self.pages)

    @property
    def failed_pages(self) -> list[int]:
        return sorted(i for i, page in self.pages.items() if not page.ok)

    def result(self) -> DocumentResult:
        """Every page in page order; a page that never came back says so instead of vanishing."""
        pages = [
            self.pages.get(i) or PageResult(index=i, error=OCRError("no result", page_index=i))
            for i in range(self.page_count)
        ]
        return DocumentResult(pages=pages, filename=self.filename, wall_time_s=self.wall_time_s)

    def page_image(self, index: int) -> bytes:
        """The page as a JPEG for display, rendered on first view and kept."""
        if index not in self._images:
            with load_document(self.data, filename=self.filename, password=self.password) as doc:
                image = doc.page(index).image.convert("RGB")
            image.thumbnail((DISPLAY_LONGEST_SIDE, DISPLAY_LONGEST_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
            self._images[index] = buffer.getvalue()
        return self._images[index]


@dataclass(frozen=True, slots=True)
class Upload:
    """What the page hands over from `st.file_uploader`."""

    file_id: str
    filename: str
    data: bytes = field(repr=False)


@dataclass
class Batch:
    """The files uploaded in this session, in upload order, until the user clears them.

    Results outlive the uploader on purpose: Streamlit forgets a file_uploader's files when
    the user visits another page, and a batch's OCR must not vanish with them.
    """

    entries: dict[str, FileEntry] = field(default_factory=dict)

    def add(self, uploads: Iterable[Upload]) -> None:
        """Add files not seen before, as pending; a file already in the batch is left alone."""
        for upload in uploads:
            if upload.file_id not in self.entries:
                self.entries[upload.file_id] = FileEntry(
                    file_id=upload.file_id, filename=upload.filename, data=upload.data
                )

    def pending(self) -> list[FileEntry]:
        return [e for e in self.entries.values() if e.state is FileState.PENDING]

    def documents(self) -> list[FileEntry]:
        return [e for e in self.entries.values() if e.state is FileState.DONE]

    def results(self) -> list[DocumentResult]:
        return [e.result() for e in self.documents()]

    def failures(self) -> dict[str, str]:
        return {
            e.filename: e.error or "could not be read"
            for e in self.entries.values()
            if e.state in (FileState.FAILED, FileState.NEEDS_PASSWORD)
        }


# --- Running a document ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    page_count: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    page_index: int
    delta: str


@dataclass(frozen=True, slots=True)
class PageDone:
    result: PageResult


@dataclass(frozen=True, slots=True)
class Finished:
    ok: bool
    # Why the file failed as a whole; None when it was read (even if some pages failed).
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    elapsed_s: float


Event = Opened | TextDelta | PageDone | Finished | Tick


def describe_error(error: BaseException) -> str:
    """Why a file could not be read, in words a QA reader can act on."""
    if isinstance(error, EncryptedDocument):
        return "is password-protected: enter its password to read it"
    if isinstance(error, EmptyDocument):
        return "is empty: it has no bytes or no pages"
    if isinstance(error, UnsupportedDocument):
        return (
            f"is not a file type the workbench reads (found: {error.detected}); "
            "upload a PDF, TIFF, PNG, JPEG or WebP"
        )
    if isinstance(error, CorruptDocument):
        return f"cannot be opened: {error.message}"
    if isinstance(error, PageLimitExceeded):
        return f"has {error.page_count} pages, more than the limit of {error.limit}"
    if isinstance(error, ImageTooLarge):
        return f"is too large to OCR ({error.message})"
    if isinstance(error, OCRError):
        return f"could not be read ({error})"
    return f"could not be read (unexpected {type(error).__name__})"


def run_document(entry: FileEntry, client: SyncOCRClient) -> Iterator[Event]:
    """OCR every page of `entry`, updating it, and yield what happens as it happens.

    Pages arrive in completion order. A bad file ends with `Finished(ok=False, error=...)`
    and the entry in FAILED (or NEEDS_PASSWORD) state; it never raises for bad input.
    Closing the generator early (the user navigated away) stops the worker.
    """
    entry.pages.clear()
    entry.error = None
    try:
        with load_document(entry.data, filename=entry.filename, password=entry.password) as doc:
            entry.page_count = doc.page_count
    except EncryptedDocument as error:
        entry.state = FileState.NEEDS_PASSWORD
        entry.error = (
            "is password-protected and the password given is wrong"
            if entry.password
            else describe_error(error)
        )
        yield Finished(ok=False, error=entry.error)
        return
    except Exception as error:  # bad input must end as a message, never a traceback
        entry.state = FileState.FAILED
        entry.error = describe_error(error)
        yield Finished(ok=False, error=entry.error)
        return
    yield Opened(entry.page_count)

    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()

    def on_chunk(chunk: StreamChunk) -> None:
        events.put(TextDelta(chunk.page_index, chunk.delta))

    def work() -> None:
        try:
            pages = client.iter_document(
                entry.data, filename=entry.filename, password=entry.password, on_chunk=on_chunk
            )
            for result in pages:
                events.put(PageDone(result))
                if stop.is_set():
                    pages.close()
                    break
            events.put(Finished(ok=True))
        except Exception as error:
            events.put(Finished(ok=False, error=describe_error(error)))

    started = last_event = time.monotonic()
    worker = threading.Thread(target=work, name=f"ocr-{entry.filename}", daemon=True)
    worker.start()
    try:
        while True:
            try:
                event = events.get(timeout=_POLL_S)
            except queue.Empty:
                if time.monotonic() - last_event >= TICK_S:
                    last_event = time.monotonic()
                    yield Tick(last_event - started)
                continue
            last_event = time.monotonic()
            if isinstance(event, PageDone):
                entry.pages[event.result.index] = event.result
            elif isinstance(event, Finished):
                entry.wall_time_s = time.monotonic() - started
                if event.ok:
                    entry.state = FileState.DONE
                else:
                    entry.state = FileState.FAILED
                    entry.error = event.error
            yield event
            if isinstance(event, Finished):
                return
    finally:
        stop.set()


def retry_page(entry: FileEntry, index: int, client: SyncOCRClient) -> PageResult:
    """OCR one page again (after a failure) and keep the new result; other pages are untouched.

    The page is rendered from the original file, as in the first run, not from a re-encoded
    copy of it.
    """
    try:
        with load_document(entry.data, filename=entry.filename, password=entry.password) as doc:
            result = client.ocr_page(doc, index)
    except OCRError as error:
        result = PageResult(index=index, error=error)
    previous = entry.pages.get(index)
    # `attempts` counts every request made for this page, the failed run's included.
    result = replace(result, attempts=result.attempts + (previous.attempts if previous else 0))
    entry.pages[index] = result
    return result
