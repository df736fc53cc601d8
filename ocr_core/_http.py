"""One HTTP exchange with the service: credentials, deadlines, bounded reads, typed errors.

A GET has one deadline from sending to the last byte. A chat completion is always streamed
and has one deadline per phase, because the phases wait for different things:

- the service takes the request: vLLM answers a streamed request with its headers before
  the engine queues it (its route returns a StreamingResponse whose generator only then adds
  the request), and Cloud Run holds a request while a cold instance starts, so this phase
  is the cold start (`admission_timeout_s`, the deployed startup window); a server that
  answers 503 "still loading" (the local server's engine starting) is asked again within
  it, so a loading server spends no attempt;
- the answer begins: the request waits its turn and the first token is computed
  (`queue_timeout_s`); vLLM sends nothing meanwhile, our local server sends SSE comments;
- the answer flows: no silence longer than `timeout_s` between two pieces.

So a page the service has taken on is not abandoned because it queued, while a dead or
stalled service is still found out. The whole attempt is bounded too (`attempt_deadline_s`,
the phases end to end unless LIGHTONOCR_ATTEMPT_TIMEOUT_S says): a server that trickles one
byte a minute cannot hold a page forever. Answers are read with
a bound: a body over `MAX_BODY_BYTES`, or a server-sent-events line over
`MAX_SSE_LINE_BYTES`, is a `ProtocolError`, and an answer's text past what its `max_tokens`
allows is `AnswerTooLarge` (_answers.py), not memory spent buffering it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from ._auth import Auth
from ._config import ClientSettings
from ._exceptions import ProtocolError, RequestTimeout, ServiceError, ServiceUnavailable
from ._models import StreamChunk
from ._protocol import (
    CHAT_PATH,
    METRICS_PATH,
    Completion,
    StreamAccumulator,
    error_from_response,
    parse_completion,
    says_loading,
)

logger = logging.getLogger(__name__)

OnChunk = Callable[[StreamChunk], None]
T = TypeVar("T", bound="Answer | Completion")

# A chat completion of 4096 tokens is tens of KiB; an error page a few. Anything past these
# bounds is not an answer from vLLM.
MAX_BODY_BYTES = 8 << 20
MAX_SSE_LINE_BYTES = 1 << 20
# An error body is only read for its message, which is cut to a few hundred characters.
_MAX_ERROR_BODY_BYTES = 64 << 10
# A loading server is asked again after this, doubling up to the maximum.
_LOADING_WAIT_S = 0.1
_LOADING_WAIT_MAX_S = 2.0


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read within its bounds."""

    status_code: int
    content: bytes = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)

    def error(self) -> ServiceError:
        return error_from_response(self.status_code, self.content, self.headers)


def transport_error(exc: httpx.TransportError) -> ServiceError:
    """httpx's network failures as our typed, retryable errors (never with request headers)."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return ServiceUnavailable(f"cannot connect to the service ({exc})")
    return ServiceUnavailable(f"connection failed ({type(exc).__name__}: {exc})")


def trace_headers(request_id: str, attempt: int, *, cloud_run: bool) -> dict[str, str]:
    """X-Request-Id (one per page, kept across retries), and on Cloud Run a trace context.

    The trace id is the request id (both 32 hex digits), so a page's log lines in Cloud
    Logging are found by its id; the span is the attempt number, which tells retries apart.
    """
    headers = {"X-Request-Id": request_id}
    if cloud_run:
        headers["X-Cloud-Trace-Context"] = f"{request_id}/{attempt};o=1"
    return headers


async def paced(
    pieces: AsyncIterator[bytes], *, first_s: float, idle_s: float
) -> AsyncIterator[bytes]:
    """`pieces`, or RequestTimeout when the first takes over `first_s` or a later one over
    `idle_s` (any byte counts, SSE comments included: they say the server is at work)."""
    limit, waiting_for = first_s, "the answer to begin (queued at the service)"
    iterator = aiter(pieces)
    while True:
        try:
            async with asyncio.timeout(limit):
                piece = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestTimeout(
                f"the service took the request but nothing came for {limit:g} s "
                f"while waiting for {waiting_for}"
            ) from None
        yield piece
        limit, waiting_for = idle_s, "the rest of the answer"


async def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The body, or ProtocolError as soon as it grows past `limit` bytes."""
    return await _bounded(response.aiter_bytes(), limit)


async def _bounded(pieces: AsyncIterator[bytes], limit: int) -> bytes:
    body = bytearray()
    async for piece in pieces:
        body += piece
        if len(body) > limit:
            raise ProtocolError(f"the answer is larger than {limit >> 20} MiB")
    return bytes(body)


async def sse_lines(pieces: AsyncIterator[bytes], limit: int) -> AsyncIterator[str]:
    """The body's lines, or ProtocolError as soon as one line grows past `limit` bytes."""
    pending = bytearray()
    async for piece in pieces:
        pending += piece
        while (end := pending.find(b"\n")) >= 0:
            yield pending[:end].decode("utf-8", "replace")
            del pending[: end + 1]
        if len(pending) > limit:
            raise ProtocolError(f"a stream line is longer than {limit >> 10} KiB")
    if pending:
        yield pending.decode("utf-8", "replace")


class ServiceHTTP:
    """The service's HTTP client: credentials (one refresh per 401) and the deadline."""

    def __init__(
        self, settings: ClientSettings, auth: Auth, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self._settings = settings
        self._auth = auth
        limits = httpx.Limits(
            max_connections=settings.concurrency + 4,
            max_keepalive_connections=settings.concurrency + 4,
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            limits=limits,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, *, timeout: float | None = None) -> Answer:
        """GET within `timeout` (default settings.timeout_s) overall."""
        deadline = self._settings.timeout_s if timeout is None else timeout

        async def once(headers: dict[str, str]) -> Answer:
            request = self._http.build_request("GET", path, headers=headers, timeout=deadline)
            response = await self._http.send(request, stream=True)
            try:
                content = await read_bounded(response, MAX_BODY_BYTES)
            finally:
                await response.aclose()
            return Answer(response.status_code, content, response.headers)

        return await self._with_credentials(once, deadline)

    async def metrics_text(self, *, timeout: float | None = None) -> str:
        """The server's Prometheus text (vLLM's queue, KV-cache and running gauges). Not an
        OCR call: no breaker gates or counts it; a non-200 is its typed ServiceError."""
        answer = await self.get(METRICS_PATH, timeout=timeout)
        if answer.status_code != 200:
            raise answer.error()
        return answer.content.decode("utf-8", "replace")

    async def chat(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str],
        page_index: int,
        on_chunk: OnChunk | None,
    ) -> Completion:
        """POST one streamed chat completion and fold it; typed errors. Deadlines per phase
        (module docstring); a server that answers plain JSON anyway is read as such."""
        settings = self._settings
        max_tokens = body.get("max_tokens")
        limit = max_tokens if isinstance(max_tokens, int) else None

        async def once(auth_headers: dict[str, str]) -> Answer | Completion:
            response = await self._admitted(body, {**headers, **auth_headers})
            if isinstance(response, Answer):
                return response
            try:
                pieces = paced(
                    response.aiter_bytes(),
                    first_s=settings.queue_timeout_s,
                    idle_s=settings.timeout_s,
                )
                if response.status_code != 200:
                    content = await _bounded(pieces, _MAX_ERROR_BODY_BYTES)
                    return Answer(response.status_code, content, response.headers)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    return parse_completion(await _bounded(pieces, MAX_BODY_BYTES), limit)
                accumulator = StreamAccumulator(limit)
                async for line in sse_lines(pieces, MAX_SSE_LINE_BYTES):
                    delta = accumulator.feed_line(line)
                    if delta and on_chunk is not None:
                        on_chunk(StreamChunk(page_index, delta))
                    if accumulator.done:
                        break
                return accumulator.result()
            finally:
                await response.aclose()

        outcome = await self._with_credentials(once, settings.attempt_deadline_s)
        if isinstance(outcome, Answer):
            raise outcome.error()
        return outcome

    async def _admitted(
        self, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response | Answer:
        """Send until the service takes the request, within `admission_timeout_s`: the
        response, or the error answer it gave. A server that says its engine is still
        loading (the local server for its first seconds, as Cloud Run holds a request while
        an instance starts) is asked again after a short wait, within the same window: it
        is starting, not failing, so no attempt is spent on it."""
        settings = self._settings
        # The phases set the deadlines; httpx's own would cut a queued request short.
        phased = httpx.Timeout(None, connect=settings.connect_timeout_s)
        wait, loading = _LOADING_WAIT_S, False
        try:
            async with asyncio.timeout(settings.admission_timeout_s):
                while True:
                    request = self._http.build_request(
                        "POST", CHAT_PATH, json=body, headers=headers, timeout=phased
                    )
                    response = await self._http.send(request, stream=True)
                    if response.status_code != 503:
                        return response
                    try:
                        content = await read_bounded(response, _MAX_ERROR_BODY_BYTES)
                    finally:
                        await response.aclose()
                    if not says_loading(content):
                        return Answer(response.status_code, content, response.headers)
                    if not loading:
                        logger.info("the service is still loading its engine: waiting")
                    loading = True
                    await asyncio.sleep(wait)
                    wait = min(2 * wait, _LOADING_WAIT_MAX_S)
        except TimeoutError:
            why = "it was still loading" if loading else "starting up, or out of instances"
            raise RequestTimeout(
                f"the service did not take the request within "
                f"{settings.admission_timeout_s:g} s ({why})"
            ) from None

    async def _with_credentials(
        self, once: Callable[[dict[str, str]], Awaitable[T]], deadline: float
    ) -> T:
        """Run `once` with credentials; a 401 earns one fresh credential. All within `deadline`."""
        try:
            async with asyncio.timeout(deadline):
                for refreshed in (False, True):
                    outcome: T = await once(await self._auth.headers())
                    unauthorised = isinstance(outcome, Answer) and outcome.status_code == 401
                    if not unauthorised or refreshed or not self._auth.invalidate():
                        return outcome
                    logger.info("401 from the service: refreshing the credential once")
        except httpx.TransportError as exc:
            raise transport_error(exc) from None
        except TimeoutError:
            raise RequestTimeout(f"no complete answer within {deadline:g} s") from None
        raise AssertionError("unreachable")  # pragma: no cover
