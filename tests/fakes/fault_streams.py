"""The fault server's answers as vLLM streams them: token chunks with their log-probs, then
finish, usage and [DONE]; or a stream that stalls after its first chunk."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse

MODEL = "lightonai/LightOnOCR-2-1B"


def event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def token_logprobs(text: str, doubtful: set[str]) -> list[dict[str, Any]]:
    """vLLM's shape: one entry per token (here a word with the space before it)."""
    tokens = [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]
    return [
        {
            "token": token,
            "logprob": math.log(0.1) if token.strip() in doubtful else -0.01,
            "bytes": list(token.encode("utf-8", "surrogatepass")),
            "top_logprobs": [],
        }
        for token in tokens
    ]


def completion_stream(
    body: dict[str, Any],
    text: str,
    *,
    finish_reason: str,
    prompt: Any,
    delay: float,
    doubtful: set[str],
) -> StreamingResponse:
    """Like vLLM: the headers at once, then nothing for `delay` (the request's turn), then
    the answer a word at a time."""
    words = text.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    scores = token_logprobs(text, doubtful) if body.get("logprobs") else None

    async def events() -> AsyncIterator[str]:
        if delay:
            await asyncio.sleep(delay)
        base = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "model": MODEL}
        yield event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        for position, piece in enumerate(pieces):
            await asyncio.sleep(0)
            choice: dict[str, Any] = {"index": 0, "delta": {"content": piece}}
            if scores is not None:
                choice["logprobs"] = {"content": [scores[position]]}
            yield event({**base, "choices": [choice]})
        yield event(
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]}
        )
        if include_usage:
            usage = {"prompt_tokens": prompt, "completion_tokens": len(pieces)}
            yield event({**base, "choices": [], "usage": usage})
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def stall() -> AsyncIterator[str]:
    """The first chunk, then nothing until the client hangs up."""
    yield event({"id": "chatcmpl-fault", "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
    await asyncio.Event().wait()


async def endless_deltas(
    disconnected: Callable[[], Awaitable[bool]], sent: Callable[[int], None], limit: int
) -> AsyncIterator[bytes]:
    """A model that never stops (or a server that ignores max_tokens): chunks of 4 KiB of
    text each, until the client hangs up or `limit` bytes have gone (`sent` counts them)."""
    base = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "model": MODEL}
    delta = {**base, "choices": [{"index": 0, "delta": {"content": "lorem ipsum " * 341}}]}
    piece = event(delta).encode()
    yield event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}).encode()
    total = 0
    while total < limit:
        # As a real server stops writing to a client that hung up.
        if await disconnected():
            return
        yield piece
        total += len(piece)
        sent(len(piece))
        await asyncio.sleep(0)


class DroppedConnection(Response):
    """Promise a body, send half of it, then fail: uvicorn closes the socket mid-answer,
    which the client sees as the connection dying (as when an instance is killed)."""

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"400")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"choices": [', "more_body": True})
        raise ConnectionResetError("fault server: dropping the connection")


# The page Google's front end answers with when it fails (no vLLM JSON in it).
FRONT_END_500 = (
    "<html><head><title>500 Server Error</title></head><body><h1>Error: Server Error</h1>"
    "<h2>The server encountered an error and could not complete your request.<p>Please try "
    "again in 30 seconds.</h2></body></html>"
)
