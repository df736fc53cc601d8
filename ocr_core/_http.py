"""One HTTP exchange with the service: credentials, deadlines, bounded reads, typed errors.

Every exchange has an overall deadline of `settings.timeout_s` from sending to the last
byte. httpx's own read timeout restarts with every byte, so without it a server that
trickles one byte every few seconds would hold a page forever. Answers are read with a
bound too: a body over `MAX_BODY_BYTES`, or a server-sent-events line over
`MAX_SSE_LINE_BYTES`, is a `ProtocolError`, not memory spent buffering it.
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


async def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The body, or ProtocolError as soon as it grows past `limit` bytes."""
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > limit:
            raise ProtocolError(f"the answer is larger than {limit >> 20} MiB")
    return bytes(body)


async def sse_lines(response: httpx.Response, limit: int) -> AsyncIterator[str]:
    """The body's lines, or ProtocolError as soon as one line grows past `limit` bytes."""
    pending = bytearray()
    async for piece in response.aiter_bytes():
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
        """POST one chat completion (streamed when `body` asks) and parse it; typed errors."""

        async def once(auth_headers: dict[str, str]) -> Answer | Completion:
            sent = {**headers, **auth_headers}
            async with self._http.stream("POST", CHAT_PATH, json=body, headers=sent) as response:
                if response.status_code != 200:
                    content = await read_bounded(response, _MAX_ERROR_BODY_BYTES)
                    return Answer(response.status_code, content, response.headers)
                if not body.get("stream"):
                    return parse_completion(await read_bounded(response, MAX_BODY_BYTES))
                accumulator = StreamAccumulator()
                async for line in sse_lines(response, MAX_SSE_LINE_BYTES):
                    delta = accumulator.feed_line(line)
                    if delta and on_chunk is not None:
                        on_chunk(StreamChunk(page_index, delta))
                    if accumulator.done:
                        break
                return accumulator.result()

        outcome = await self._with_credentials(once, self._settings.timeout_s)
        if isinstance(outcome, Answer):
            raise outcome.error()
        return outcome

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
