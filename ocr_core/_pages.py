"""The page pipeline's moving parts: a page made ready to send, the service's answer made a
page result, and a document's pages kept flowing with a bounded number rendered ahead of
the requests in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, replace

from ._confidence import page_confidence
from ._documents import Document
from ._exceptions import ServiceError, Truncated
from ._imaging import encode_image
from ._models import PageResult
from ._protocol import Completion


@dataclass(frozen=True, slots=True)
class Prepared:
    """A page ready to send (data URI), or its own text when the text layer is used."""

    has_text_layer: bool | None
    data_uri: str | None = None
    size: tuple[int | None, int | None] = (None, None)
    text_layer: str | None = None


async def prepare(document: Document, index: int, *, use_text_layer: bool) -> Prepared:
    """Render and encode one page (one turn of the sandbox, text layer and image together);
    the sandbox's waits hold no thread, the encoding does."""
    text_layer, image = await document.read_for_ocr(index, use_text_layer=use_text_layer)
    has_text_layer = text_layer is not None
    if image is None:  # the text layer is used
        return Prepared(has_text_layer, text_layer=text_layer or "")
    encoded = await asyncio.to_thread(encode_image, image)
    return Prepared(
        has_text_layer, data_uri=encoded.data_uri(), size=(encoded.width, encoded.height)
    )


def answered_page(
    base: PageResult, outcome: Completion | ServiceError, *, strict: bool, rerun: str | None
) -> PageResult:
    """The page's result from what the service answered: `base` (timing, attempts, request
    id) with the typed error, or with the text, its tokens and how far it can be trusted.

    A truncated page keeps its text; `strict` also marks it failed (`Truncated`) so a
    batch that must not lose lines stops on it.
    """
    index = base.index
    if isinstance(outcome, ServiceError):
        return replace(base, error=outcome.on_page(index))
    error = None
    if outcome.truncated and strict:
        error = Truncated(
            f"the model stopped at max_tokens after {outcome.completion_tokens} tokens",
            page_index=index,
        )
    confidence, doubtful = page_confidence(outcome.text, outcome.token_logprobs)
    return replace(
        base,
        text=outcome.text,
        error=error,
        truncated=outcome.truncated,
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        finish_reason=outcome.finish_reason,
        confidence=confidence,
        low_confidence=doubtful,
        rerun_reason=rerun,
    )


def pages_ahead(concurrency: int) -> int:
    """Pages started at once for `concurrency` requests in flight: a few more than the
    slots, so a rendered page is ready when one frees, never a whole document."""
    return concurrency + max(2, concurrency // 2)


async def iter_pages(
    document: Document,
    ocr_one: Callable[[int], Awaitable[PageResult]],
    concurrency: int,
) -> AsyncGenerator[PageResult, None]:
    """Every page's result in completion order; `ocr_one(index)` must never raise.

    At most `concurrency` requests are in flight (the caller's own limit) and a few more
    pages are started ahead so a render is ready when a slot frees, never the whole
    document. Leaving the loop early cancels the pages still running.
    """
    window = asyncio.Semaphore(pages_ahead(concurrency))
    done: asyncio.Queue[PageResult] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()

    async def run(index: int) -> None:
        try:
            await done.put(await ocr_one(index))
        finally:
            window.release()

    async def feed() -> None:
        for index in range(document.page_count):
            await window.acquire()
            task = asyncio.create_task(run(index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    feeder = asyncio.create_task(feed())
    try:
        for _ in range(document.page_count):
            yield await done.get()
    finally:
        feeder.cancel()
        pending = [feeder, *tasks]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
