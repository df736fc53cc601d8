"""OCRClient: documents in, one OCR request per page, every page out as a result or an error.

The async client is the real thing; SyncOCRClient drives one on a private event loop in a
daemon thread, so scripts and Streamlit (which reruns on many threads) can share a single
instance and with it a single breaker and connection pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import httpx

from ._auth import Auth, IdTokenFetcher, make_auth
from ._breaker import CircuitBreaker
from ._config import ClientSettings
from ._documents import Document, load_document
from ._exceptions import (
    AuthError,
    BadRequest,
    NotFound,
    OCRError,
    PageRenderError,
    ProtocolError,
    RequestTimeout,
    ServiceError,
    ServiceUnavailable,
    Truncated,
)
from ._models import DocumentResult, PageResult, StreamChunk, WarmUpReport
from ._protocol import (
    CHAT_PATH,
    HEALTH_PATH,
    MODELS_PATH,
    Completion,
    StreamAccumulator,
    chat_request,
    completion_room,
    error_from_response,
    max_model_len,
    parse_completion,
)
from ._retry import Sleep, retrying

logger = logging.getLogger(__name__)

T = TypeVar("T")
OnChunk = Callable[[StreamChunk], None]

# warm_up polls /health starting here, growing by half each time up to the cap: a local
# server that starts in 1 s is seen ready by ~1.2 s, a Cloud Run cold start (minutes)
# costs a poll every 5 s.
WARM_UP_FIRST_DELAY_S = 0.25
WARM_UP_BACKOFF = 1.5
WARM_UP_MAX_DELAY_S = 5.0
# After /v1/models failed, pages go out unclamped for this long before it is asked again.
MODELS_RETRY_S = 30.0


def _transport_error(exc: httpx.TransportError) -> ServiceError:
    """httpx's network failures as our typed, retryable errors (never with request headers)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return RequestTimeout(f"no answer in time ({kind})")
    if isinstance(exc, httpx.ConnectError):
        return ServiceUnavailable(f"cannot connect to the service ({exc})")
    return ServiceUnavailable(f"connection failed ({type(exc).__name__}: {exc})")


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A page ready to send (data URI), or its own text when the text layer is used."""

    has_text_layer: bool | None
    data_uri: str | None = None
    size: tuple[int | None, int | None] = (None, None)
    text_layer: str | None = None


class OCRClient:
    """Async client for a vLLM-compatible LightOnOCR service.

    `base_url` None means `settings.base_url` (LIGHTONOCR_SERVICE_URL, then the local
    server); `**overrides` are ClientSettings fields. `id_token_fetcher(audience) -> token`
    replaces Application Default Credentials for Google ID tokens (and, with auth "auto",
    selects them). `sleep` replaces asyncio.sleep in retry waits, so tests of the backoff
    schedule take milliseconds. `transport` goes to httpx (e.g. httpx.MockTransport).
    `breaker` lets several clients of one service share one circuit (and one state to show).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        id_token_fetcher: IdTokenFetcher | None = None,
        sleep: Sleep | None = None,
        breaker: CircuitBreaker | None = None,
        **overrides: Any,
    ) -> None:
        settings = settings or ClientSettings.from_env()
        if base_url:
            overrides["base_url"] = base_url.rstrip("/")
        self.settings = settings.with_overrides(**overrides) if overrides else settings
        self._auth: Auth = make_auth(self.settings, id_token_fetcher)
        self._sleep = sleep
        self.breaker = breaker or CircuitBreaker(
            self.settings.breaker_failure_threshold, self.settings.breaker_cooldown_s
        )
        limits = httpx.Limits(
            max_connections=self.settings.concurrency + 4,
            max_keepalive_connections=self.settings.concurrency + 4,
        )
        self._http = httpx.AsyncClient(
            base_url=self.settings.base_url,
            timeout=httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s),
            limits=limits,
            transport=transport,
        )
        self._slots = asyncio.Semaphore(max(1, self.settings.concurrency))
        self._max_tokens: int | None = None
        self._models_lock = asyncio.Lock()
        self._models_failed_at = -MODELS_RETRY_S

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def __repr__(self) -> str:
        return (
            f"OCRClient(base_url={self.base_url!r}, model={self.settings.model!r}, "
            f"auth={self._auth.kind!r})"
        )

    async def __aenter__(self) -> OCRClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- HTTP --------------------------------------------------------------------------------

    async def _get(self, path: str, *, timeout: float | None = None) -> httpx.Response:
        """GET with credentials; a 401 earns one fresh credential, as for chat requests."""
        request_timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        for refreshed in (False, True):
            headers = await self._auth.headers()
            try:
                response = await self._http.get(path, headers=headers, timeout=request_timeout)
            except httpx.TransportError as exc:
                raise _transport_error(exc) from None
            if response.status_code != 401 or refreshed or not self._auth.invalidate():
                break
        return response

    async def models(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """GET /v1/models: what the server serves, with vLLM's `max_model_len`."""
        response = await self._get(MODELS_PATH, timeout=timeout)
        if response.status_code != 200:
            raise error_from_response(response.status_code, response.content, response.headers)
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError(f"/v1/models answer has no data list ({exc!r})") from None
        if not isinstance(data, list):
            raise ProtocolError("/v1/models data is not a list")
        return data

    async def _effective_max_tokens(self) -> int:
        """settings.max_tokens clamped to the server's max_model_len, learnt once.

        A server that cannot say (cold, or not vLLM) gets the setting unclamped and is asked
        again next time, so one early 503 does not pin the guess forever.
        """
        if self._max_tokens is not None:
            return self._max_tokens
        async with self._models_lock:
            if self._max_tokens is not None:
                return self._max_tokens
            now = time.monotonic()
            if now - self._models_failed_at < MODELS_RETRY_S:
                return self.settings.max_tokens  # asked moments ago: don't queue every page
            try:
                models = await self.models(timeout=self.settings.connect_timeout_s)
            except OCRError as exc:
                logger.debug("cannot read max_model_len yet: %s", exc)
                self._models_failed_at = now
                return self.settings.max_tokens
            limit = max_model_len(models, self.settings.model) or self.settings.max_tokens
            self._max_tokens = min(self.settings.max_tokens, limit)
            return self._max_tokens

    async def _post_chat(
        self,
        body: dict[str, Any],
        page_index: int,
        on_chunk: OnChunk | None,
    ) -> Completion:
        """One HTTP attempt, with the single token refresh a 401 deserves."""
        for refreshed in (False, True):
            headers = await self._auth.headers()
            try:
                if body.get("stream"):
                    status, completion, error = await self._stream_chat(
                        body, headers, page_index, on_chunk
                    )
                else:
                    response = await self._http.post(CHAT_PATH, json=body, headers=headers)
                    status = response.status_code
                    completion, error = None, None
                    if status != 200:
                        error = error_from_response(status, response.content, response.headers)
                    else:
                        completion = parse_completion(response.content)
            except httpx.TransportError as exc:
                raise _transport_error(exc) from None
            if completion is not None:
                return completion
            assert error is not None
            if status == 401 and not refreshed and self._auth.invalidate():
                logger.info("401 from the service: refreshing the credential once")
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    async def _stream_chat(
        self,
        body: dict[str, Any],
        headers: dict[str, str],
        page_index: int,
        on_chunk: OnChunk | None,
    ) -> tuple[int, Completion | None, ServiceError | None]:
        async with self._http.stream("POST", CHAT_PATH, json=body, headers=headers) as response:
            if response.status_code != 200:
                content = await response.aread()
                error = error_from_response(response.status_code, content, response.headers)
                return response.status_code, None, error
            accumulator = StreamAccumulator()
            async for line in response.aiter_lines():
                delta = accumulator.feed_line(line)
                if delta and on_chunk is not None:
                    on_chunk(StreamChunk(page_index, delta))
                if accumulator.done:
                    break
            return 200, accumulator.result(), None

    async def _complete(
        self, data_uri: str, page_index: int, on_chunk: OnChunk | None
    ) -> tuple[Completion | ServiceError, int]:
        """One page through breaker and retries -> (completion or its typed error, attempts)."""
        attempts = 0
        try:
            self.breaker.before_call()
        except ServiceError as exc:
            return exc, attempts
        max_tokens = await self._effective_max_tokens()
        try:
            while True:
                body = chat_request(
                    data_uri,
                    model=self.settings.model,
                    max_tokens=max_tokens,
                    temperature=self.settings.temperature,
                    top_p=self.settings.top_p,
                    stream=self.settings.stream,
                )
                try:
                    async for attempt in retrying(self.settings, self._sleep):
                        with attempt:
                            attempts += 1
                            completion = await self._post_chat(body, page_index, on_chunk)
                    break
                except BadRequest as exc:
                    room = completion_room(exc.message)
                    if room is None or room >= max_tokens:
                        raise
                    # The page's image tokens leave less room than asked: ask for what fits,
                    # and ask every later page for no more either.
                    logger.info(
                        "max_tokens %d does not fit the context: using %d", max_tokens, room
                    )
                    max_tokens = room
                    self._max_tokens = min(self._max_tokens or room, room)
        except ServiceError as exc:
            self.breaker.record_failure(exc)
            return exc, attempts
        except BaseException:
            self.breaker.abandon()  # cancelled: no verdict, so free the probe slot
            raise
        self.breaker.record_success()
        return completion, attempts

    def _prepare(self, document: Document, index: int) -> _Prepared:
        """Render and encode one page (blocking: runs in a worker thread, pdfium locks)."""
        page = document.page(index)
        has_text_layer = page.has_text_layer
        if self.settings.use_text_layer and has_text_layer:
            return _Prepared(has_text_layer, text_layer=page.text_layer or "")
        encoded = page.encode()
        return _Prepared(
            has_text_layer, data_uri=encoded.data_uri(), size=(encoded.width, encoded.height)
        )

    async def _ocr_page(
        self, document: Document, index: int, on_chunk: OnChunk | None
    ) -> PageResult:
        """Prepare and OCR one page; every failure becomes this page's error, never a raise
        (a raise would leave iter_document waiting for a page that never comes)."""
        started = time.perf_counter()
        try:
            return await self._read_page(document, index, on_chunk)
        except Exception as exc:
            if not isinstance(exc, OCRError):
                logger.warning("page %d failed unexpectedly", index + 1, exc_info=True)
                exc = OCRError(f"unexpected failure ({type(exc).__name__}: {exc})")
            exc.page_index = index
            return PageResult(index=index, error=exc, latency_s=time.perf_counter() - started)

    async def _read_page(
        self, document: Document, index: int, on_chunk: OnChunk | None
    ) -> PageResult:
        started = time.perf_counter()
        try:
            prepared = await asyncio.to_thread(self._prepare, document, index)
        except OCRError:
            raise
        except Exception as exc:
            raise PageRenderError(f"cannot render the page ({type(exc).__name__}: {exc})") from exc
        if prepared.text_layer is not None:
            return PageResult(
                index=index,
                text=prepared.text_layer,
                latency_s=time.perf_counter() - started,
                source="text_layer",
                has_text_layer=True,
            )
        width, height = prepared.size
        assert prepared.data_uri is not None
        async with self._slots:
            started = time.perf_counter()
            outcome, attempts = await self._complete(prepared.data_uri, index, on_chunk)
        base = PageResult(
            index=index,
            latency_s=time.perf_counter() - started,
            attempts=attempts,
            has_text_layer=prepared.has_text_layer,
            width=width,
            height=height,
        )
        if isinstance(outcome, ServiceError):
            outcome.page_index = index
            return replace(base, error=outcome)
        error = None
        if outcome.truncated and self.settings.strict:
            error = Truncated(
                f"the model stopped at max_tokens after {outcome.completion_tokens} tokens",
                page_index=index,
            )
        return replace(
            base,
            text=outcome.text,
            error=error,
            truncated=outcome.truncated,
            prompt_tokens=outcome.prompt_tokens,
            completion_tokens=outcome.completion_tokens,
            finish_reason=outcome.finish_reason,
        )

    async def _load(self, data: bytes, filename: str | None, password: str | None) -> Document:
        return await asyncio.to_thread(
            load_document,
            data,
            filename=filename,
            password=password,
            max_pages=self.settings.documents.max_pages,
            settings=self.settings.documents,
        )

    async def ocr_image(self, image_bytes: bytes, *, filename: str | None = None) -> PageResult:
        """OCR one image (any type load_document reads; the first page of anything else).

        Invalid input raises its typed error; service failures come back as the page's error.
        """
        document = await self._load(image_bytes, filename, None)
        try:
            return await self._ocr_page(document, 0, None)
        finally:
            await asyncio.to_thread(document.close)

    async def extract_text(self, image_bytes: bytes, *, filename: str | None = None) -> str:
        """The seed's one-call API: the page's text, or the typed error."""
        result = await self.ocr_image(image_bytes, filename=filename)
        if result.error is not None:
            raise result.error
        return result.text

    async def iter_document(
        self,
        data: bytes,
        filename: str | None = None,
        password: str | None = None,
        on_chunk: OnChunk | None = None,
    ) -> AsyncGenerator[PageResult, None]:
        """Yield each page's result as it completes (completion order, see PageResult.index).

        Pages are rendered lazily: at most `concurrency` requests are in flight and a few
        more pages rendered ahead, never the whole document. Document-level problems
        (corrupt, encrypted, too many pages) raise before the first page; anything that goes
        wrong with one page is that page's `error`. Leaving the loop early cancels the rest.

        With `settings.stream`, `on_chunk` gets each piece of text as it arrives. It runs on
        the event loop, so keep it quick; if a page is retried its chunks start over, and
        the PageResult's text is the one to keep.
        """
        document = await self._load(data, filename, password)
        window = asyncio.Semaphore(
            self.settings.concurrency + max(2, self.settings.concurrency // 2)
        )
        done: asyncio.Queue[PageResult] = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()

        async def run(index: int) -> None:
            try:
                await done.put(await self._ocr_page(document, index, on_chunk))
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
            await asyncio.to_thread(document.close)

    async def ocr_document(
        self,
        data: bytes,
        filename: str | None = None,
        password: str | None = None,
        on_chunk: OnChunk | None = None,
    ) -> DocumentResult:
        """Every page of the document, in page order; failed pages carry their error."""
        started = time.perf_counter()
        pages = [page async for page in self.iter_document(data, filename, password, on_chunk)]
        pages.sort(key=lambda page: page.index)
        return DocumentResult(
            pages=pages, filename=filename, wall_time_s=time.perf_counter() - started
        )

    # --- warm-up -----------------------------------------------------------------------------

    async def warm_up(self, timeout: float = 300.0) -> WarmUpReport:
        """Poll until the model answers (/health, then /v1/models lists it) and time it.

        Ready means the model answers, not that a socket opened. Polls back off from 0.25 s
        to 5 s. The breaker is not tripped by the polls; a ready service closes it. This only
        measures: the report says whether the first probe already found it ready.
        """
        clock = time.monotonic
        started = clock()
        deadline = started + timeout
        delay = WARM_UP_FIRST_DELAY_S
        attempts = 0
        while True:
            attempts += 1
            try:
                why_not = await self._probe_ready(max(deadline - clock(), 0.25))
            except AuthError as exc:
                # Waiting cannot fix credentials: say so now.
                return WarmUpReport(False, clock() - started, attempts, exc, self.base_url)
            except ServiceError as exc:
                why_not = exc
            if why_not is None:
                self.breaker.reset()
                return WarmUpReport(
                    True, clock() - started, attempts, None, self.base_url, was_ready=attempts == 1
                )
            remaining = deadline - clock()
            if remaining <= 0:
                return WarmUpReport(
                    False, clock() - started, attempts, _not_ready(why_not, timeout), self.base_url
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * WARM_UP_BACKOFF, WARM_UP_MAX_DELAY_S)

    async def _probe_ready(self, remaining: float) -> ServiceError | None:
        """None when ready, else why not; raises typed errors for transport failures."""
        timeout = min(remaining, self.settings.timeout_s)
        response = await self._get(HEALTH_PATH, timeout=timeout)
        if response.status_code != 200:
            raise error_from_response(response.status_code, response.content, response.headers)
        models = await self.models(timeout=timeout)
        names = [str(entry.get("id")) for entry in models]
        if self.settings.model not in names:
            return NotFound(f"model {self.settings.model!r} not served (server lists {names})")
        return None


def _not_ready(last: ServiceError, timeout: float) -> ServiceError:
    """The last probe's error, reworded to say the deadline passed; a wrong model stays a
    NotFound, anything else means the service was unavailable for the whole time."""
    message = f"not ready after {timeout:g} s: {last.message}"
    if isinstance(last, NotFound):
        return NotFound(message, status_code=last.status_code)
    return ServiceUnavailable(message, status_code=last.status_code)


class SyncOCRClient:
    """The blocking face of OCRClient, safe to share between threads.

    One event loop runs in a daemon thread and owns the async client; calls from any thread
    are submitted to it, so all callers share one breaker, one token cache and one pool.
    `on_chunk` callbacks run on that loop thread.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        id_token_fetcher: IdTokenFetcher | None = None,
        sleep: Sleep | None = None,
        breaker: CircuitBreaker | None = None,
        **overrides: Any,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ocr-client-loop", daemon=True
        )
        self._thread.start()

        async def build() -> OCRClient:
            return OCRClient(
                base_url,
                settings=settings,
                transport=transport,
                id_token_fetcher=id_token_fetcher,
                sleep=sleep,
                breaker=breaker,
                **overrides,
            )

        try:
            self._client = self._run(build())
        except BaseException:
            self._stop_loop()
            raise
        self._closed = False

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    @property
    def settings(self) -> ClientSettings:
        return self._client.settings

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def breaker(self) -> CircuitBreaker:
        return self._client.breaker

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    def __enter__(self) -> SyncOCRClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._run(self._client.aclose())
        self._stop_loop()

    def models(self) -> list[dict[str, Any]]:
        return self._run(self._client.models())

    def extract_text(self, image_bytes: bytes, *, filename: str | None = None) -> str:
        return self._run(self._client.extract_text(image_bytes, filename=filename))

    def ocr_image(self, image_bytes: bytes, *, filename: str | None = None) -> PageResult:
        return self._run(self._client.ocr_image(image_bytes, filename=filename))

    def ocr_document(
        self,
        data: bytes,
        filename: str | None = None,
        password: str | None = None,
        on_chunk: OnChunk | None = None,
    ) -> DocumentResult:
        return self._run(self._client.ocr_document(data, filename, password, on_chunk))

    def iter_document(
        self,
        data: bytes,
        filename: str | None = None,
        password: str | None = None,
        on_chunk: OnChunk | None = None,
    ) -> Iterator[PageResult]:
        """Pages in completion order; stopping early cancels the pages still in flight."""
        pages = self._client.iter_document(data, filename, password, on_chunk)

        async def next_page() -> PageResult:
            return await anext(pages)

        try:
            while True:
                try:
                    yield self._run(next_page())
                except StopAsyncIteration:
                    return
        finally:
            self._run(pages.aclose())

    def warm_up(self, timeout: float = 300.0) -> WarmUpReport:
        return self._run(self._client.warm_up(timeout))
