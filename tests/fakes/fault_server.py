"""A real vLLM-shaped HTTP server on loopback whose failures are scripted by the test.

Starlette under uvicorn in a thread (as httpx's own test server runs). It answers
`GET /health`, `GET /v1/models` and `POST /v1/chat/completions` (plain and SSE streaming)
like vLLM, and can be told to be cold, loading (the local server's 503 "still loading"),
slow, rate limited, rude (connections dropped mid answer), malformed, truncating, endless
(deltas without end), unauthorised, to send lone surrogates, to fail pages of one colour,
or to hold answers past a limit the test raises page by page. It records every request and
the highest number of chat requests it had in flight at once.

The reply text names the page colour (`page #rrggbb`, channels rounded to web-safe steps),
so a test can tell which page an answer belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.fault_streams import (
    FRONT_END_500,
    MODEL,
    DroppedConnection,
    completion_stream,
    endless_deltas,
    stall,
    token_logprobs,
)
from tests.fakes.faults import FAULTS, Faults, RequestRecord, page_colour


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "BadRequestError" if status < 500 else "InternalServerError"
    body = {"error": {"message": message, "type": kind, "param": None, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), media_type="application/json")


class FaultServer:
    """Use as a context manager; `base_url` is where it listens."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.chat_arrivals = 0
        # Bytes of the "trickle" and "endless_line" answers that left the server.
        self.sent_bytes = 0
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/health", self._health),
                Route("/v1/models", self._models),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/metrics", self._metrics),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- scripting ---------------------------------------------------------------------------

    def go_cold(self, seconds: float, *, held: bool = False) -> None:
        """Start cold for `seconds`: answering 503 (an instance whose engine loads), or with
        `held` keeping requests unanswered until then (Cloud Run's front end, scaled to zero)."""
        if held:
            self.faults.held_until = time.monotonic() + seconds
        else:
            self.faults.cold_until = time.monotonic() + seconds

    def script(self, *steps: str) -> None:
        for step in steps:
            if step not in FAULTS:
                raise ValueError(f"unknown fault {step!r}; known: {FAULTS}")
        self.faults.script.extend(steps)

    def chat_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    # --- handlers ----------------------------------------------------------------------------

    def _record(self, request: Request, body: dict[str, Any] | None) -> None:
        with self._lock:
            self.requests.append(
                RequestRecord(
                    request.method,
                    request.url.path,
                    dict(request.headers),
                    body,
                    time.monotonic(),
                )
            )

    async def _held(self) -> None:
        while (left := self.faults.held_until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))

    async def _within_limit(self, arrival: int) -> None:
        while (limit := self.faults.answer_limit) is not None and arrival >= limit:
            await asyncio.sleep(0.02)

    def _sent(self, count: int) -> None:
        self.sent_bytes += count

    def _loading(self) -> Response | None:
        """The local server's answer while its engine loads, for `loading_requests` requests."""
        with self._lock:
            if self.faults.loading_requests <= 0:
                return None
            self.faults.loading_requests -= 1
        return _error(503, "the engine is still loading")

    def _cold(self) -> Response | None:
        if time.monotonic() < self.faults.cold_until:
            return _error(503, "engine is starting")
        return None

    def _unauthorised(self, request: Request) -> Response | None:
        accepted = self.faults.accept_tokens
        if accepted is None:
            return None
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and header[len("Bearer ") :] in accepted:
            return None
        return _error(401, "missing or invalid credentials")

    async def _health(self, request: Request) -> Response:
        self._record(request, None)
        await self._held()
        return self._cold() or self._unauthorised(request) or Response(status_code=200)

    async def _metrics(self, request: Request) -> Response:
        """vLLM's three gauges as Prometheus text: requests in flight run, none wait, and each
        running request holds an eighth of the KV cache (8 sequences fill it)."""
        self._record(request, None)
        await self._held()
        refusal = self._cold() or self._unauthorised(request)
        if refusal:
            return refusal
        labels = f'{{engine="0",model_name="{MODEL}"}}'
        gauges = {
            "vllm:num_requests_running": float(self.in_flight),
            "vllm:num_requests_waiting": 0.0,
            "vllm:kv_cache_usage_perc": min(1.0, self.in_flight / 8),
        }
        text = "".join(
            f"# TYPE {name} gauge\n{name}{labels} {value}\n" for name, value in gauges.items()
        )
        return Response(text, media_type="text/plain; version=0.0.4")

    async def _models(self, request: Request) -> Response:
        self._record(request, None)
        await self._held()
        refusal = self._cold() or self._unauthorised(request)
        if refusal:
            return refusal
        entry = {
            "id": MODEL,
            "object": "model",
            "owned_by": "vllm",
            "max_model_len": self.faults.max_model_len,
        }
        if self.faults.preferred_longest_side is not None:
            entry["preferred_longest_side"] = self.faults.preferred_longest_side
        if self.faults.max_num_seqs is not None:
            entry["max_num_seqs"] = self.faults.max_num_seqs
        return JSONResponse({"object": "list", "data": [entry]})

    async def _chat(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._record(request, None)
            return _error(400, "request body is not JSON")
        self._record(request, body)
        with self._lock:
            arrival = self.chat_arrivals
            self.chat_arrivals += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        answered: Response | None = None
        try:
            await self._within_limit(arrival)
            answered = await self._answer(request, body)
        finally:
            if not isinstance(answered, StreamingResponse):
                self._finished()
        if isinstance(answered, StreamingResponse):
            answered.body_iterator = self._counted(answered.body_iterator)
        return answered

    def _finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    async def _counted(self, pieces: Any) -> Any:
        """A streamed answer is in flight until its last byte (or its client hangs up)."""
        try:
            async for piece in pieces:
                yield piece
        finally:
            self._finished()

    async def _answer(self, request: Request, body: dict[str, Any]) -> Response:
        await self._held()
        step = self.faults.script.popleft() if self.faults.script else None
        refusal = self._cold() or self._unauthorised(request) or self._loading()
        if refusal:
            return refusal
        if step == "401":
            return _error(401, "token expired")
        if step in ("429", "502", "503", "504"):
            headers = {"Retry-After": self.faults.retry_after} if self.faults.retry_after else None
            return _error(int(step), f"scripted {step}", headers)
        if step == "leaky401":
            quoted = request.headers.get("authorization", "")
            return _error(401, f"invalid credentials in 'Authorization: {quoted}'")
        if step in ("500", "400", "404", "413"):
            return _error(int(step), f"scripted {step}")
        if step == "malformed":
            return Response(b'{"choices": [ {"mess', media_type="application/json")
        if step == "reset":
            return DroppedConnection()
        if step == "trickle":
            return StreamingResponse(self._trickle(), media_type="application/json")
        if step == "endless_line":
            return StreamingResponse(self._endless_line(request), media_type="text/event-stream")
        if step == "stall":
            return StreamingResponse(stall(), media_type="text/event-stream")
        if step == "endless_deltas":
            deltas = endless_deltas(request.is_disconnected, self._sent, self.faults.endless_bytes)
            return StreamingResponse(deltas, media_type="text/event-stream")
        if step == "no_instance":
            text = "The request was aborted because there was no available instance."
            return Response(text, status_code=500, media_type="text/plain")
        if step == "front_end_500":
            return Response(FRONT_END_500, status_code=500, media_type="text/html")
        if step == "stream_400":
            error = {"message": "scripted 400", "type": "BadRequestError", "code": 400}
            events = f"data: {json.dumps({'error': error})}\n\ndata: [DONE]\n\n"
            return Response(events, media_type="text/event-stream")
        try:
            uri = body["messages"][0]["content"][0]["image_url"]["url"]
            colour = page_colour(uri)
        except (KeyError, IndexError, TypeError, ValueError, OSError) as exc:
            return _error(400, f"no readable image in the request ({exc})")
        max_tokens = int(body.get("max_tokens") or 0)
        prompt_tokens, context = self.faults.prompt_tokens, self.faults.max_model_len
        if max_tokens > context - prompt_tokens:
            return _error(
                400,
                f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This "
                f"model's maximum context length is {context} tokens and your request has "
                f"{prompt_tokens} input tokens ({max_tokens} > {context} - {prompt_tokens}).",
            )
        delay = self.faults.delay_s if step != "slow" else max(self.faults.delay_s, 30.0)
        if self.faults.fail_colour == colour:
            if delay:
                await asyncio.sleep(delay)
            return _error(self.faults.fail_colour_status, f"cannot read page {colour}")
        text = f"page {colour}"
        if step == "loop":  # until max_tokens, as vLLM stops it (a "word" is a token here)
            text += "\n" + "Thank you for your business.\n" * 200
            text = " ".join(text.split(" ")[:max_tokens])
            finish_reason = "length"
        else:
            finish_reason = self.faults.finish_reason
        if step == "empty":
            text = ""
        if step == "long":
            text += (" " + "x" * 199) * 1000
        if step in ("surrogate", "surrogate_json"):
            text += " \ud800 mended"  # a lone surrogate, sent as its JSON escape
        prompt: Any = "lots" if step == "bad_usage" else prompt_tokens
        if body.get("stream") and step != "surrogate_json":
            # Like vLLM: the headers at once, then nothing while the request waits its turn.
            return completion_stream(
                body,
                text,
                finish_reason=finish_reason,
                prompt=prompt,
                delay=delay,
                doubtful=self.faults.doubtful_words,
            )
        if delay:
            await asyncio.sleep(delay)
        scores = token_logprobs(text, self.faults.doubtful_words)
        logprobs = {"content": scores} if body.get("logprobs") else None
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_tokens + len(text.split()),
        }
        # json.dumps escapes a lone surrogate (JSONResponse would fail to encode it).
        return _json(
            {
                "id": "chatcmpl-fault",
                "object": "chat.completion",
                "model": body.get("model", MODEL),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "logprobs": logprobs,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": usage,
            }
        )

    async def _trickle(self) -> Any:
        yield b"{"
        while True:  # JSON whitespace, for as long as the client keeps listening
            await asyncio.sleep(self.faults.trickle_interval_s)
            yield b" "
            self.sent_bytes += 1

    async def _endless_line(self, request: Request) -> Any:
        piece = b"data: " + b"x" * (1 << 16)
        while self.sent_bytes < 400 << 20:
            # As a real server stops writing to a client that hung up. (uvicorn before 0.31
            # drops writes to a closed connection without raising, so the loop would go on
            # to 400 MB and count bytes that never left.)
            if await request.is_disconnected():
                return
            yield piece
            self.sent_bytes += len(piece)
            await asyncio.sleep(0)

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="critical",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=0.2,  # slow-answer tests must not slow teardown
        )
        self._server = _ThreadServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 60  # a limit for a loaded machine, not a speed
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fault server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)


class _ThreadServer(uvicorn.Server):
    """Signals belong to the main thread (pytest's); this server lives in another."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn
        pass
