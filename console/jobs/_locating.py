"""The runner's locating of words: each read page's words placed on its image
(`ocr_core.alocate_words`) and kept (`WordsStore`), after its text and never before it.

A job is done when its text is (DESIGN: "text first, extras after"): the runner releases it
as soon as its pages are read, and this locator, one task for the whole runner, goes on
through the store's pages that wait for words, oldest job first, whatever the job's status:
a job still being read, one done an hour ago, or one a restarted worker finds. What needs the
words (the overlay, the searchable PDF, hOCR, ALTO) says "locating, k of n" until then.

Locating runs in a sandbox worker of its own, one page at a time for the whole runner: the
embedded engine's detection and recognition take most of a core per page and ~600 MB of
activations, so running more at once would only take cores and memory from the pages being
read. A page's image is rendered again from the document, opened again for the locator at the
size the job's service read it (the same rendering), and kept open while its pages are
located. A page that cannot be located keeps its text and says why; a page without text gets
a row without words; a job without the `local` extra in the worker is read and not located
(`available`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from console.jobs._rows import MAX_PAGE_TEXT_CHARS
from console.jobs._words import WordsStore
from ocr_core import Document, OCRError, PageWords, alocate_words, engine_available
from ocr_core._locate import LOCATE_LIMITS
from ocr_core._sandbox import Sandbox, SandboxLimits

logger = logging.getLogger(__name__)
InStore = Callable[..., Awaitable[Any]]
OpenDocument = Callable[[int, int], Awaitable[Document]]
# How often the store is looked at for pages to locate when no page was read meanwhile.
POLL_S = 0.5
# The row of a page without text: located, with no words.
EMPTY = PageWords(1, 1, (), ())


class PageLocator:
    """Locates the words of a job's read pages, one page at a time for the whole runner."""

    def __init__(
        self,
        words: WordsStore,
        in_store: InStore,
        limits: SandboxLimits = LOCATE_LIMITS,
        *,
        poll_s: float = POLL_S,
    ) -> None:
        self.words = words
        self._in_store = in_store
        self._limits = limits
        self.available = engine_available()
        self._sandbox: Sandbox | None = None
        self._turn = asyncio.Lock()
        self._poll_s = poll_s
        self._wake = asyncio.Event()

    async def run(self, open_document: OpenDocument, still_read: Callable[[int], bool]) -> None:
        """Locate the store's waiting pages until cancelled (the runner's life):
        `open_document(job, document)` opens a document again for its pages, and
        `still_read(job)` says whether the job's pages are still being read (its document is
        then kept open for the pages to come)."""
        if not self.available:
            return
        opened: tuple[int, int, Document] | None = None  # job, document, the open copy
        try:
            while True:
                try:
                    found = await self._in_store(self.words.next_to_locate)
                    if opened is not None and (
                        (found is None and not still_read(opened[0]))
                        or (found is not None and found[1] != opened[1])
                    ):
                        opened[2].close()
                        opened = None
                    if found is None:
                        await self._rest()
                        continue
                    if opened is None:
                        opened = (*found, await self._open(open_document, *found))
                    await self.locate(opened[0], [(opened[1], opened[2])])
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the locator outlives any one bad look or page
                    logger.warning("word locator: %s", error, exc_info=True)
                    await self._rest()
        finally:
            if opened is not None:
                opened[2].close()

    def wake(self) -> None:
        """A page was read: look for it now rather than at the next poll."""
        self._wake.set()

    async def _rest(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_s)
        self._wake.clear()

    async def _open(self, open_document: OpenDocument, job_id: int, document_id: int) -> Document:
        """The document opened again; if it cannot be (a password the worker no longer
        holds), each of its waiting pages says why, so none is tried again and again."""
        try:
            return await open_document(job_id, document_id)
        except Exception as error:
            why = f"words not located: the document could not be opened again ({error})"
            for index, _ in await self._in_store(self.words.pages_to_locate, document_id):
                save = functools.partial(self.words.save, error=why)
                await self._in_store(save, job_id, document_id, index, None)
            raise

    async def locate(self, job_id: int, documents: Sequence[tuple[int, Document]]) -> int:
        """Locate every page of these documents read and not located yet; returns how many
        pages were tried."""
        if not self.available:
            return 0
        tried = 0
        for document_id, document in documents:
            for index, text in await self._in_store(self.words.pages_to_locate, document_id):
                await self._page(job_id, document_id, document, index, text)
                tried += 1
        return tried

    async def _page(
        self, job_id: int, document_id: int, document: Document, index: int, text: str
    ) -> None:
        words: PageWords | None = None
        why: str | None = None
        if not text.strip():  # nothing to place: located at once, without the engine
            await self._in_store(self.words.save, job_id, document_id, index, EMPTY)
            return
        if len(text) > MAX_PAGE_TEXT_CHARS:  # a row cut on reading: not the page's text
            why = f"words not located: the page's text is over {MAX_PAGE_TEXT_CHARS:,} characters"
            save = functools.partial(self.words.save, error=why)
            await self._in_store(save, job_id, document_id, index, None)
            return
        async with self._turn:
            started = time.perf_counter()
            try:
                image = await document.read_image(index)
                words = await alocate_words(image, text, sandbox=self._sandbox_for())
            except OCRError as error:
                why = f"words not located: {error}"
                logger.warning(why, extra={"job": job_id, "document": document_id, "page": index})
            seconds = time.perf_counter() - started
        save = functools.partial(self.words.save, error=why, seconds=seconds)
        await self._in_store(save, job_id, document_id, index, words)

    def _sandbox_for(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox(self._limits)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        logger.info("word locator closed")
