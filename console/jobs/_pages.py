"""Opening a job's documents and reading one page: the runner's only contact with ocr_core.

`read_page` is the one place that sends a page to the service.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from console.jobs._ledger import JobLedger
from console.jobs._models import DocumentState, JobDocument
from console.jobs._passwords import take_password
from console.jobs._store import JobStore
from ocr_core import (
    CorruptDocument,
    Document,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    OCRClient,
    OCRError,
    PageLimitExceeded,
    PageResult,
    Sampling,
    UnsupportedDocument,
    load_document,
)

# Threads that wait while a document is opened in the sandbox (its turn in its lane, then
# the parse): their own, so a slow hostile file never holds the threads that encode pages.
T = TypeVar("T")
_OPENING = ThreadPoolExecutor(max_workers=16, thread_name_prefix="document-open")


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


async def open_document(
    client: OCRClient, data: bytes, filename: str, password: str | None
) -> Document:
    """Open with the client's document limits at the page size the service reads best (its
    stated `preferred_longest_side`, else the card's); raises the typed error of a bad file."""
    settings = await client.document_settings()
    opening = functools.partial(
        load_document,
        data,
        filename=filename,
        password=password,
        max_pages=settings.max_pages,
        settings=settings,
    )
    return await asyncio.get_running_loop().run_in_executor(_OPENING, opening)


async def open_entry(
    entry: JobDocument,
    client: OCRClient,
    stores: tuple[JobStore, JobLedger],
    in_store: Callable[..., Awaitable[Any]],
    passwords: dict[int, str],
) -> Document | None:
    """A job's document, or None after writing why it cannot be opened (it fails alone).

    A password handed over through the store is taken out of it into `passwords` (the
    runner's memory); `in_store` runs the store's calls off the runner's loop."""
    jobs, ledger = stores
    data = await in_store(jobs.document_data, entry.id)
    given = await in_store(take_password, jobs.store, entry.id)
    if given is not None:
        passwords[entry.id] = given
    password = passwords.get(entry.id)
    try:
        document = await open_document(client, data, entry.filename, password)
    except EncryptedDocument as error:
        why = (
            "is password-protected and the password given is wrong"
            if password
            else describe_error(error)
        )
        await in_store(ledger.set_document, entry.id, DocumentState.NEEDS_PASSWORD, 0, why)
        return None
    except Exception as error:  # bad input ends as the document's message, never a raise
        await in_store(
            ledger.set_document, entry.id, DocumentState.FAILED, 0, describe_error(error)
        )
        return None
    if entry.state is not DocumentState.OPENED or entry.page_count != document.page_count:
        await in_store(ledger.set_document, entry.id, DocumentState.OPENED, document.page_count)
    return document


async def read_page(
    client: OCRClient,
    document: Document,
    index: int,
    *,
    use_text_layer: bool,
    sampling: Sampling | None = None,
    on_attempt: Callable[[int, str | None], None] | None = None,
) -> PageResult:
    """The runner's one request for a page (the client's slots, breaker and retries, the
    text-layer choice); a page that cannot be rendered or sent fails alone, never raises."""
    return await client.ocr_page(
        document, index, sampling=sampling, use_text_layer=use_text_layer, on_attempt=on_attempt
    )


def round_robin(queues: list[list[T]]) -> Iterator[T]:
    """One item from each queue in turn, until all are empty (a job's documents taking turns)."""
    for turn in itertools.zip_longest(*queues):
        yield from (item for item in turn if item is not None)
