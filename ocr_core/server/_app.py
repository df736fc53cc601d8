"""The ASGI app: vLLM's HTTP surface over a CPU OCR engine.

The listener comes up first and the engine loads in the background, so `/health` answers
503 during a cold start exactly as vLLM does, and a client's warm-up can be measured.
OCR is CPU-bound and blocking: it runs in a thread pool sized to `max_num_seqs`, behind a
semaphore whose waiters are the queue reported as `vllm:num_requests_waiting`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import _logprobs
from . import _protocol as proto
from ._engine import PREFERRED_LONGEST_SIDE, Engine, EngineResult, load_engine
from ._metrics import CONTENT_TYPE_LATEST, ServerMetrics

logger = logging.getLogger("ocr_core.server")

DEFAULT_MODEL_NAME = "lightonai/LightOnOCR-2-1B"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What `python -m ocr_core.server` takes on its command line."""

    engine: str = "rapidocr"
    served_model_name: str = DEFAULT_MODEL_NAME
    max_model_len: int = 4096
    max_num_seqs: int = 8
    service_time: float = 0.5  # simulated engine only
    startup_delay: float = 0.0
    engine_threads: int | None = None  # rapidocr only: onnxruntime threads per page

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1:
            raise ValueError("max_num_seqs must be at least 1")
        if self.max_model_len < 1:
            raise ValueError("max_model_len must be at least 1")
        if self.startup_delay < 0:
            raise ValueError("startup_delay must be >= 0")

    def engine_kwargs(self) -> dict[str, Any]:
        """The options `load_engine` takes for the chosen engine."""
        if self.engine == "simulated":
            return {"service_time": self.service_time}
        if self.engine == "rapidocr" and self.engine_threads:
            return {"threads": self.engine_threads}
        return {}


class _Server:
    """Engine, slots and metrics of one running app."""

    def __init__(
        self, settings: ServerSettings, on_engine_failure: Callable[[str], None] | None
    ) -> None:
        self.settings = settings
        self.on_engine_failure = on_engine_failure
        self.engine: Engine | None = None
        self.load_error: str | None = None
        self.metrics = ServerMetrics(settings.served_model_name, settings.max_num_seqs)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.max_num_seqs, thread_name_prefix="ocr-engine"
        )
        self.slots = asyncio.Semaphore(settings.max_num_seqs)
        self.running = 0
        self.waiting = 0
        self.created = int(time.time())

    async def load(self) -> None:
        started = time.perf_counter()
        settings = self.settings
        try:
            if settings.startup_delay:
                logger.info("simulated startup delay of %.2f s", settings.startup_delay)
                await asyncio.sleep(settings.startup_delay)
            loop = asyncio.get_running_loop()
            engine = await loop.run_in_executor(
                self.executor, lambda: load_engine(settings.engine, **settings.engine_kwargs())
            )
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            logger.critical("engine %s failed to load: %s", settings.engine, self.load_error)
            if self.on_engine_failure is not None:
                self.on_engine_failure(self.load_error)
            return
        self.engine = engine
        seconds = time.perf_counter() - started
        logger.info(
            "engine ready in %.2f s",
            seconds,
            extra={"engine": settings.engine, "ready_s": round(seconds, 3)},
        )

    def _publish_load(self) -> None:
        self.metrics.set_load(self.running, self.waiting)

    async def run(self, engine: Engine, request: proto.ChatRequest) -> tuple[EngineResult, float]:
        """Wait for a slot, OCR in the pool; returns the result and the seconds spent queued."""
        queued_at = time.perf_counter()
        self.waiting += 1
        self._publish_load()
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        queue_s = time.perf_counter() - queued_at
        self.running += 1
        self._publish_load()
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, engine.read, request.image)
        finally:
            self.running -= 1
            self.slots.release()
            self._publish_load()
        return result, queue_s


def _error(exc: proto.RequestError) -> JSONResponse:
    return JSONResponse(
        proto.error_body(exc.message, exc.kind, exc.status, exc.param), status_code=exc.status
    )


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def create_app(
    settings: ServerSettings | None = None,
    on_engine_failure: Callable[[str], None] | None = None,
) -> Starlette:
    """The Starlette app; the engine starts loading when the app's lifespan starts.

    `on_engine_failure` hears why the engine could not load; the CLI uses it to exit, as
    vLLM does, rather than answer 503 forever.
    """
    settings = settings or ServerSettings()
    server = _Server(settings, on_engine_failure)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        loader = asyncio.create_task(server.load())
        try:
            yield
        finally:
            loader.cancel()
            server.executor.shutdown(wait=False, cancel_futures=True)

    async def health(_request: Request) -> Response:
        return Response(status_code=200 if server.engine is not None else 503)

    async def models(_request: Request) -> JSONResponse:
        card = {
            "id": settings.served_model_name,
            "object": "model",
            "created": server.created,
            "owned_by": "vllm",
            "root": settings.served_model_name,
            "parent": None,
            "max_model_len": settings.max_model_len,
            "permission": [],
        }
        if (side := PREFERRED_LONGEST_SIDE.get(settings.engine)) is not None:
            card["preferred_longest_side"] = side  # ours, not vLLM's: see _engine
        return JSONResponse({"object": "list", "data": [card]})

    async def metrics(_request: Request) -> Response:
        return Response(server.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def chat_completions(request: Request) -> Response:
        arrived = time.perf_counter()
        try:
            chat = await _parse(request)
        except proto.RequestError as exc:
            logger.info("rejected chat completion: %s", exc.message, extra={"status": exc.status})
            return _error(exc)
        engine = server.engine
        if engine is None:
            return _error(
                proto.RequestError(
                    server.load_error or "the engine is still loading",
                    status=503,
                    kind="ServiceUnavailableError",
                )
            )
        try:
            result, queue_s = await server.run(engine, chat)
        except Exception as exc:
            if (bad_image := proto.undecodable(exc)) is not None:
                logger.info("rejected chat completion: %s", bad_image.message)
                return _error(bad_image)
            logger.exception("the %s engine failed on a page", settings.engine)
            return _error(
                proto.RequestError(
                    f"the OCR engine failed on this page ({type(exc).__name__})",
                    status=500,
                    kind="InternalServerError",
                )
            )
        kept, finish_reason = proto.truncate(result.text, chat.max_tokens)
        prompt, completion = proto.prompt_tokens(chat.image), len(kept)
        ttft = time.perf_counter() - arrived
        request_id = proto.new_request_id()

        def finished() -> None:
            e2e = time.perf_counter() - arrived
            server.metrics.record_success(
                finished_reason=finish_reason,
                prompt_tokens=prompt,
                completion_tokens=completion,
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

        def logprobs(pieces: list[str], first: int) -> dict[str, Any] | None:
            if not chat.logprobs:
                return None
            scores = result.word_logprobs[first : first + len(pieces)]
            return _logprobs.content(pieces, scores, chat.top_logprobs)

        if not chat.stream:
            finished()
            body = proto.completion_body(
                request_id,
                chat.model,
                "".join(kept),
                finish_reason,
                prompt,
                completion,
                logprobs(kept, 0),
            )
            return JSONResponse(body)

        async def events() -> AsyncIterator[bytes]:
            created = int(time.time())
            yield _sse(
                proto.chunk_body(
                    request_id, chat.model, created, {"role": "assistant", "content": ""}
                )
            )
            for index, piece in enumerate(kept):
                delta = {"content": piece}
                scores = logprobs([piece], index)
                yield _sse(
                    proto.chunk_body(request_id, chat.model, created, delta, None, None, scores)
                )
            yield _sse(proto.chunk_body(request_id, chat.model, created, {}, finish_reason))
            if chat.include_usage:
                usage = proto.usage(prompt, completion)
                yield _sse(proto.chunk_body(request_id, chat.model, created, None, None, usage))
            yield b"data: [DONE]\n\n"
            finished()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _parse(request: Request) -> proto.ChatRequest:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > proto.MAX_BODY_BYTES:
            raise proto.RequestError(
                f"the request body is larger than {proto.MAX_BODY_BYTES} bytes", status=413
            )
        raw = await request.body()
        if len(raw) > proto.MAX_BODY_BYTES:
            raise proto.RequestError(
                f"the request body is larger than {proto.MAX_BODY_BYTES} bytes", status=413
            )
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise proto.RequestError(f"the request body is not valid JSON: {exc}") from None
        # Cheap enough for the event loop: base64 and header checks, no pixel decoding.
        return proto.parse_chat_request(
            body, served_model=settings.served_model_name, max_model_len=settings.max_model_len
        )

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
