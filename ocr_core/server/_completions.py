"""One page's engine result as vLLM's answer: a chat.completion or its server-sent events.

A streamed request gets its headers as soon as it is admitted, before it waits for a slot,
as vLLM does (its route returns the StreamingResponse before the engine queues the request):
a client then knows the server has taken the page on, and can wait for it as long as its
turn takes instead of abandoning it. Also where a finished request is counted in the metrics
and logged once its answer is out, and an abandoned one (the client hung up first) is
logged and counted as vLLM counts aborts.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from . import _logprobs
from . import _protocol as proto
from ._body import ClientGone
from ._engine import EngineResult
from ._metrics import ServerMetrics

logger = logging.getLogger("ocr_core.server")


@dataclass(frozen=True, slots=True)
class Page:
    """What the engine read and the size of the image it read it from."""

    result: EngineResult
    size: tuple[int, int]


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def answer(
    metrics: ServerMetrics,
    chat: proto.ChatRequest,
    page: Page,
    *,
    request_id: str,
    arrived: float,
    queue_s: float,
) -> Response:
    """The response for a page read by the engine; metrics and the log line when it is sent."""
    result = page.result
    kept, finish_reason = proto.truncate(result.text, chat.max_tokens)
    prompt, completion = proto.prompt_tokens(page.size), len(kept)
    ttft = time.perf_counter() - arrived

    def finished() -> None:
        e2e = time.perf_counter() - arrived
        metrics.record_success(
            finished_reason=finish_reason,
            prompt_tokens=prompt,
            completion_tokens=completion * chat.n,
            queue_s=queue_s,
            inference_s=result.seconds,
            ttft_s=ttft,
            e2e_s=e2e,
        )
        logger.info(
            "chat completion %s in %.3f s: %d+%d tokens, %s",
            request_id,
            e2e,
            prompt,
            completion,
            finish_reason,
            extra={
                "request_id": request_id,
                "latency_s": round(e2e, 4),
                "queue_s": round(queue_s, 4),
                "inference_s": round(result.seconds, 4),
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "finish_reason": finish_reason,
                "text_boxes": result.boxes,
                "stream": chat.stream,
            },
        )

    def logprobs(first: int, count: int) -> dict[str, Any] | None:
        if not chat.logprobs:
            return None
        pieces = kept[first : first + count]
        return _logprobs.content(pieces, result.word_logprobs[first:], chat.top_logprobs)

    model = chat.model
    if not chat.stream:
        finished()
        body = proto.completion_body(
            request_id,
            model,
            "".join(kept),
            finish_reason,
            prompt,
            completion,
            chat.n,
            logprobs(0, len(kept)),
        )
        return JSONResponse(body)

    async def events() -> AsyncIterator[bytes]:
        created = int(time.time())
        for index in range(chat.n):
            role = {"role": "assistant", "content": ""}
            yield _sse(proto.chunk_body(request_id, model, created, role, index=index))
            for position, piece in enumerate(kept):
                delta = {"content": piece}
                scores = logprobs(position, 1)
                yield _sse(
                    proto.chunk_body(
                        request_id, model, created, delta, index=index, logprobs=scores
                    )
                )
            yield _sse(proto.chunk_body(request_id, model, created, {}, finish_reason, index=index))
        if chat.include_usage:
            usage = proto.usage(prompt, completion * chat.n)
            yield _sse(proto.chunk_body(request_id, model, created, None, None, usage))
        yield b"data: [DONE]\n\n"
        finished()

    return StreamingResponse(events(), media_type="text/event-stream")


Reading = Coroutine[Any, Any, tuple[Page, float]]
T = TypeVar("T")


async def disconnected(receive: Receive) -> None:
    """Returns when the client closes the connection (the body has been read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(work: Awaitable[T], receive: Receive) -> T:
    """`work`'s result; if the client closes the connection first, `work` is cancelled (its
    slot freed at once) and `ClientGone` raised. Watched here, not left to the framework,
    which (depending on the ASGI spec the server reports) may only notice when the next
    byte is sent: after the page is read."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(disconnected(receive))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        gone.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ClientGone("the client closed the connection; its request was cancelled")
    return task.result()


def streamed(
    metrics: ServerMetrics,
    chat: proto.ChatRequest,
    reading: Reading,
    *,
    receive: Receive,
    release: Callable[[], None],
    request_id: str,
    arrived: float,
) -> StreamingResponse:
    """The headers now, the events once `reading` has read the page; `release` gives the
    request's admission back when the response ends, however it ends.

    A failure after the headers is an error event then `[DONE]`, as vLLM sends it. A client
    that hangs up cancels the reading (`unless_disconnected`) and is logged as abandoned.
    """

    async def events() -> AsyncIterator[bytes]:
        answered = False
        try:
            try:
                page, queue_s = await unless_disconnected(reading, receive)
            except ClientGone:
                return  # `finally` logs it
            except proto.RequestError as exc:
                logger.warning(
                    "chat completion %s failed: %s",
                    request_id,
                    exc.message,
                    extra={"request_id": request_id, "status": exc.status},
                )
                error = proto.error_body(exc.message, exc.kind, exc.status, exc.param)
                yield _sse(error)
                yield b"data: [DONE]\n\n"
                answered = True
                return
            response = answer(
                metrics, chat, page, request_id=request_id, arrived=arrived, queue_s=queue_s
            )
            assert isinstance(response, StreamingResponse)
            async for piece in response.body_iterator:
                yield piece if isinstance(piece, bytes) else str(piece).encode()
            answered = True
        finally:
            if inspect.getcoroutinestate(reading) == inspect.CORO_CREATED:
                reading.close()  # the stream was closed before it started
            if not answered:
                waited = time.perf_counter() - arrived
                metrics.record_abandoned()
                logger.warning(
                    "client went away after %.1f s: request %s abandoned",
                    waited,
                    request_id,
                    extra={"request_id": request_id, "status": 499, "abandoned": True},
                )

    return _Releasing(events(), release)


class _Releasing(StreamingResponse):
    """A stream that gives its request's admission back when it ends, however it ends: also
    when the client is gone before the first byte and the events never start."""

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream")
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
