"""The ASGI app: vLLM's HTTP surface over a CPU OCR engine.

The listener comes up first and the engine loads in the background, so `/health` answers
503 during a cold start exactly as vLLM does, and a client's warm-up can be measured.
OCR is CPU-bound and blocking: it runs in a thread pool behind the scheduler's slots, whose
waiters are the queue reported as `vllm:num_requests_waiting`. Every answer the app gives,
including unknown routes, wrong methods and crashes, is vLLM's JSON error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _protocol as proto
from ._body import ClientGone, check_media_type, parse_json, read_body
from ._completions import Page, answer, streamed, unless_disconnected
from ._engine import PREFERRED_LONGEST_SIDE, Engine, load_engine
from ._images import DecodeBudget, shrink, undecodable
from ._logging import MAX_REQUEST_ID_CHARS, REQUEST_ID
from ._metrics import CONTENT_TYPE_LATEST, ServerMetrics
from ._scheduler import Scheduler
from ._settings import DEFAULT_MODEL_NAME, ServerSettings

__all__ = ["DEFAULT_MODEL_NAME", "ServerSettings", "create_app"]

logger = logging.getLogger("ocr_core.server")


def _give_back_freed_memory() -> None:
    """Return the heap memory freed by a page to the OS (glibc's malloc_trim; no-op elsewhere).

    Each engine thread allocates from a heap of its own, and glibc keeps what a page freed
    there for later use: with a pool of engine threads the process kept several decoded
    pages' worth of memory it no longer used. Trimming after each page bounds that. (The
    server used to mmap every block over 1 MB instead, which did the same for page images
    but made every onnxruntime buffer a fresh mapping: a dense page took 22 million page
    faults and 106 s on its first read instead of 12 s.)
    """
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


class _Server:
    """Engine, scheduler and metrics of one running app."""

    def __init__(
        self, settings: ServerSettings, on_engine_failure: Callable[[str], None] | None
    ) -> None:
        self.settings = settings
        self.on_engine_failure = on_engine_failure
        self.engine: Engine | None = None
        self.load_error: str | None = None
        self.metrics = ServerMetrics(settings.served_model_name, settings.max_num_seqs)
        self.scheduler = Scheduler(self.metrics, settings.max_num_seqs, settings.waiting_limit)
        self.decode_budget = DecodeBudget()
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
                self.scheduler.executor,
                lambda: load_engine(settings.engine, **settings.engine_kwargs()),
            )
            loaded = time.perf_counter()
            # Primed before /health says ready: the first user's page costs a warm page's time.
            await loop.run_in_executor(self.scheduler.executor, engine.prime)
            primed_s = time.perf_counter() - loaded
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            logger.critical("engine %s failed to load: %s", settings.engine, self.load_error)
            if self.on_engine_failure is not None:
                self.on_engine_failure(self.load_error)
            return
        self.engine = engine
        seconds = time.perf_counter() - started
        logger.info(
            "engine ready in %.2f s (primed in %.2f s)",
            seconds,
            primed_s,
            extra={
                "engine": settings.engine,
                "ready_s": round(seconds, 3),
                "primed_s": round(primed_s, 3),
            },
        )

    def reader(self, engine: Engine, image: Image.Image) -> Callable[[], Page]:
        """The blocking work of one page: decode at a bounded size, then OCR."""
        side = self.settings.max_image_side

        def read() -> Page:
            try:
                page = shrink(image, self.decode_budget, side)
                return Page(engine.read(page), page.size)
            finally:
                _give_back_freed_memory()

        return read


def _error(exc: proto.RequestError) -> JSONResponse:
    return JSONResponse(
        proto.error_body(exc.message, exc.kind, exc.status, exc.param),
        status_code=exc.status,
        headers=exc.headers,
    )


class RequestIdMiddleware:
    """The client's X-Request-Id: set for the log lines of its request, echoed on the answer.

    vLLM echoes it with `--enable-request-id-headers` and uses it in the completion id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id", "")[:MAX_REQUEST_ID_CHARS]
        if not request_id:
            await self.app(scope, receive, send)
            return
        REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


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
    scheduler = server.scheduler

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        loader = asyncio.create_task(server.load())
        try:
            yield
        finally:
            loader.cancel()
            scheduler.shutdown()

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
            # Ours, not vLLM's: how many pages run at once, so clients send no more than
            # that and no request of theirs waits (and times out) in our queue.
            "max_num_seqs": settings.max_num_seqs,
        }
        if (side := PREFERRED_LONGEST_SIDE.get(settings.engine)) is not None:
            card["preferred_longest_side"] = side  # ours, not vLLM's: see _engine
        return JSONResponse({"object": "list", "data": [card]})

    async def metrics(_request: Request) -> Response:
        return Response(server.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def chat_completions(request: Request) -> Response:
        arrived = time.perf_counter()
        held = contextlib.ExitStack()  # body claim and queue place; a stream takes them along
        try:
            engine = server.engine
            if engine is None:
                raise proto.RequestError(
                    server.load_error or "the engine is still loading", status=503
                )
            check_media_type(request)
            claim = held.enter_context(scheduler.body())
            raw = await read_body(
                request,
                limit=proto.MAX_BODY_BYTES,
                deadline_s=settings.body_timeout,
                reserve=claim.reserve,
            )
            chat = _parse(raw)
            del raw
            held.enter_context(scheduler.admit())  # a place in the queue: the request is whole
            request_id = proto.new_request_id(REQUEST_ID.get())
            if chat.stream:
                return streamed(
                    server.metrics,
                    chat,
                    _read(engine, chat),
                    receive=request.receive,
                    release=held.pop_all().close,
                    request_id=request_id,
                    arrived=arrived,
                )
            page, queue_s = await unless_disconnected(_read(engine, chat), request.receive)
        except proto.RequestError as exc:
            log = logger.warning if exc.status >= 500 else logger.info
            log("rejected chat completion: %s", exc.message, extra={"status": exc.status})
            return _error(exc)
        except ClientGone as exc:
            logger.warning("client went away: %s", exc, extra={"status": 499, "abandoned": True})
            server.metrics.record_abandoned()
            return Response(status_code=499)
        finally:
            held.close()
        return answer(
            server.metrics,
            chat,
            page,
            request_id=request_id,
            arrived=arrived,
            queue_s=queue_s,
        )

    async def _read(engine: Engine, chat: proto.ChatRequest) -> tuple[Page, float]:
        """Wait for a slot and read the page: (page, seconds queued); typed failures."""
        try:
            return await scheduler.run(server.reader(engine, chat.image))
        except Exception as exc:
            if (bad_image := undecodable(exc)) is not None:
                raise bad_image from None
            logger.exception("the %s engine failed on a page", settings.engine)
            raise proto.RequestError(
                f"the OCR engine failed on this page ({type(exc).__name__})", status=500
            ) from None

    def _parse(raw: bytes) -> proto.ChatRequest:
        # Cheap enough for the event loop: JSON, base64 and header checks, no pixel decoding.
        return proto.parse_chat_request(
            parse_json(raw),
            served_model=settings.served_model_name,
            max_model_len=settings.max_model_len,
        )

    async def http_error(_request: Request, exc: Exception) -> Response:
        # vLLM's HTTPException handler: the status phrase as the type, the detail as message.
        assert isinstance(exc, HTTPException)
        body = proto.error_body(exc.detail, HTTPStatus(exc.status_code).phrase, exc.status_code)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def crash(_request: Request, exc: Exception) -> Response:
        message = f"the server failed on this request ({type(exc).__name__})"
        return JSONResponse(proto.error_body(message, "InternalServerError", 500), 500)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ]
    handlers: dict[Any, Any] = {HTTPException: http_error, Exception: crash}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.add_middleware(RequestIdMiddleware)
    return app
