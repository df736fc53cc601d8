"""One page's engine result as vLLM's answer: a chat.completion or its server-sent events.

Also where a finished request is counted in the metrics and logged, once its answer is out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from . import _logprobs
from . import _protocol as proto
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
