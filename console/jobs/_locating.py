"""The runner's locating of words: as a job's pages are read, each page's words are placed
on its image (`ocr_core.alocate_words`) and kept (`WordsStore`).

Locating runs in a sandbox worker of its own, one page at a time for the whole runner:
the embedded engine's detection and recognition take ~1.4 s of one core per 1540 px page
and ~600 MB of activations, so running more at once would only take cores and memory from
the pages being read. A page's image is rendered again through the job's open document
(the same rendering the service read) instead of being kept in memory from its request.
Locating follows the reading: a page is located soon after its text is kept, so a job whose
pages are read remotely (Cloud Run) spends its locating time while it waits for the rest.
A page that cannot be located keeps its text and says why; a job without the `local` extra
in the worker is read and not located (`available`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from console.jobs._words import WordsStore
from ocr_core import Document, OCRError, PageWords, alocate_words, engine_available
from ocr_core._locate import LOCATE_LIMITS
from ocr_core._sandbox import Sandbox, SandboxLimits

logger = logging.getLogger(__name__)
InStore = Callable[..., Awaitable[Any]]
# How often a job's pages are looked at for text to locate while they are being read.
FOLLOW_POLL_S = 0.5


class PageLocator:
    """Locates the words of a job's read pages, one page at a time for the whole runner."""

    def __init__(
        self, words: WordsStore, in_store: InStore, limits: SandboxLimits = LOCATE_LIMITS
    ) -> None:
        self.words = words
        self._in_store = in_store
        self._limits = limits
        self.available = engine_available()
        self._sandbox: Sandbox | None = None
        self._turn = asyncio.Lock()

    async def locate(self, job_id: int, documents: Sequence[tuple[int, Document]]) -> int:
        """Locate every page of these documents read with text and not located yet;
        returns how many pages were tried."""
        if not self.available:
            return 0
        tried = 0
        for document_id, document in documents:
            for index, text in await self._in_store(self.words.pages_to_locate, document_id):
                await self._page(job_id, document_id, document, index, text)
                tried += 1
        return tried

    async def follow(
        self, job_id: int, documents: Sequence[tuple[int, Document]], reading: asyncio.Future[Any]
    ) -> None:
        """Locate pages as they are read (`reading` sends them), and those left once it is
        done; a page read while one is being located waits for the next look."""
        if not self.available:
            return
        while True:
            finished = reading.done()
            tried = await self.locate(job_id, documents)
            if finished and not tried:
                return
            if not tried:
                await asyncio.wait({reading}, timeout=FOLLOW_POLL_S)

    async def _page(
        self, job_id: int, document_id: int, document: Document, index: int, text: str
    ) -> None:
        words: PageWords | None = None
        why: str | None = None
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
