"""OCRClient: documents in, one OCR request per page, every page out as a result or an error.

The async client is the real thing (`SyncOCRClient` drives one on a private loop); HTTP is in
`_http.py`, scheduling in `_pages.py`: this is the page's way through breaker and retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from typing import Any

import httpx

from ._auth import Auth, IdTokenFetcher, make_auth
from ._breaker import CircuitBreaker, admit
from ._capacity import Capacity
from ._config import ClientSettings, DocumentSettings, Sampling
from ._documents import Document, load_document
from ._exceptions import BadRequest, OCRError, PageRenderError, ServiceError
from ._http import OnChunk, ServiceHTTP, trace_headers
from ._models import DocumentResult, PageResult, WarmUpReport
from ._pages import answered_page, iter_pages, prepare
from ._protocol import (
    Completion,
    chat_request,
    completion_room,
)
from ._retry import Sleep, retrying
from ._server_facts import ServerFacts
from ._warm_up import fetch_models, warm_up
from .quality import rerun_reason

logger = logging.getLogger(__name__)

# Told each request of a page as it is sent: (attempt number, why the previous one failed).
OnAttempt = Callable[[int, str | None], None]


class OCRClient:
    """Async client for a vLLM-compatible LightOnOCR service.

    `base_url` None means `settings.base_url` (LIGHTONOCR_SERVICE_URL, then the local
    server); `settings` None means `ClientSettings.from_env()`. `id_token_fetcher(audience)
    -> token` replaces Application Default Credentials for Google ID tokens (and, with auth
    "auto", selects them). `sleep` replaces asyncio.sleep in retry waits, so tests of the
    backoff schedule take milliseconds. `transport` goes to httpx (e.g. httpx.MockTransport).
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
    ) -> None:
        settings = settings or ClientSettings.from_env()
        if base_url:
            settings = replace(settings, base_url=base_url.rstrip("/"))
        self.settings = settings
        self._auth: Auth = make_auth(settings, id_token_fetcher)
        self._sleep = sleep
        self.breaker = breaker or CircuitBreaker(
            settings.breaker_failure_threshold, settings.breaker_cooldown_s
        )
        self._http = ServiceHTTP(settings, self._auth, transport)
        self._slots = Capacity(settings.concurrency)
        self._rerun = Sampling(settings.rerun_temperature, settings.rerun_repetition_penalty)
        self._facts = ServerFacts(
            settings, lambda: self.models(timeout=settings.connect_timeout_s), self._slots
        )

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def capacity(self) -> int:
        """Requests sent at once: `settings.concurrency`, or fewer once the server has said
        it runs fewer (learnt with its /v1/models, before the first page)."""
        return self._slots.limit

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

    # --- the service ---------------------------------------------------------------------------

    async def models(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """GET /v1/models: what the server serves, with vLLM's `max_model_len`."""
        return await fetch_models(self._http, timeout=timeout)

    async def metrics_text(self, *, timeout: float | None = None) -> str:
        """GET /metrics (Prometheus text) with the pages' credentials, outside the breaker."""
        return await self._http.metrics_text(timeout=timeout)

    async def warm_up(self, timeout: float | None = None) -> WarmUpReport:
        """Poll until the model answers (/health, then /v1/models lists it) and time it.

        `timeout` None waits as long as a request would for the service to take it
        (`settings.admission_timeout_s`, the deployed startup window).

        Polls back off from 0.25 s to 5 s; the polls never trip the breaker and a ready
        service closes it. This only measures: `was_ready` says whether the first probe
        already found the model answering.
        """
        return await warm_up(
            self._http,
            model=self.settings.model,
            breaker=self.breaker,
            base_url=self.base_url,
            timeout=self.settings.admission_timeout_s if timeout is None else timeout,
            probe_timeout=self.settings.timeout_s,
        )

    async def _effective_max_tokens(self) -> int:
        return await self._facts.learn()

    async def document_settings(self) -> DocumentSettings:
        """How to open documents for this service: `settings.documents`, at the page size
        the server says it reads best when it says so (and the caller did not fix one)."""
        documents = self.settings.documents
        if not self.settings.follow_server_page_size:
            return documents
        await self._effective_max_tokens()
        if self._facts.page_side is None:
            return documents
        return replace(documents, longest_side=self._facts.page_side)

    async def _complete(
        self,
        data_uri: str,
        page_index: int,
        request_id: str,
        on_chunk: OnChunk | None,
        sampling: Sampling | None = None,
        on_attempt: OnAttempt | None = None,
    ) -> tuple[Completion | ServiceError, int]:
        """One page through breaker and retries -> (completion or its typed error, attempts).

        Every attempt carries the page's `request_id`; each attempt has its own deadline.
        """
        attempts = 0
        why: str | None = None  # the previous attempt's failure
        try:
            await admit(self.breaker, deadline_s=self.settings.timeout_s)
        except ServiceError as exc:
            return exc, attempts
        temperature, penalty, max_tokens = (sampling or Sampling()).over(
            self.settings.temperature, None, await self._effective_max_tokens()
        )
        cloud_run = self.settings.is_cloud_run
        try:
            while True:
                body = chat_request(
                    data_uri,
                    model=self.settings.model,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_p=self.settings.top_p,
                    stream=True,
                    logprobs=self.settings.logprobs,
                    repetition_penalty=penalty,
                )
                try:
                    async for attempt in retrying(self.settings, self._sleep):
                        with attempt:
                            attempts += 1
                            if on_attempt is not None:
                                on_attempt(attempts, why)
                            headers = trace_headers(request_id, attempts, cloud_run=cloud_run)
                            try:
                                completion = await self._http.chat(
                                    body,
                                    headers=headers,
                                    page_index=page_index,
                                    on_chunk=on_chunk,
                                )
                            except ServiceError as exc:
                                why = f"{type(exc).__name__}: {exc}"
                                raise
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
                    self._facts.fits(room)
        except ServiceError as exc:
            self.breaker.record_failure(exc)
            return exc, attempts
        except BaseException:
            self.breaker.abandon()  # cancelled: no verdict, so free the probe slot
            raise
        self.breaker.record_success()
        return completion, attempts

    # --- pages ---------------------------------------------------------------------------------

    async def ocr_page(
        self,
        document: Document,
        index: int,
        *,
        on_chunk: OnChunk | None = None,
        sampling: Sampling | None = None,
        use_text_layer: bool | None = None,
        on_attempt: OnAttempt | None = None,
    ) -> PageResult:
        """OCR page `index` (0-based) of an already opened document.

        `sampling`: a person's choice for this page, kept as answered (no automatic re-run);
        such a page goes to the model even when it has a text layer. `use_text_layer`: read
        a digital page's own text instead of OCR (None: the client's setting). `on_attempt`
        hears each request as it is sent (its number, why the one before failed), so a caller
        can say a page is in flight or being retried.
        Every failure becomes the result's `error`, never a raise, so a caller retrying one
        page of a document it holds open renders that page once, from the original file.
        `IndexError` for an index outside the document.
        """
        if not 0 <= index < document.page_count:
            raise IndexError(f"page index {index} is out of range (0..{document.page_count - 1})")
        started = time.perf_counter()
        try:
            return await self._read_page(
                document, index, on_chunk, sampling, use_text_layer, on_attempt
            )
        except Exception as exc:
            if isinstance(exc, OCRError):
                error = exc.on_page(index)
            else:
                logger.warning("page %d failed unexpectedly", index + 1, exc_info=True)
                message = f"unexpected failure ({type(exc).__name__}: {exc})"
                error = OCRError(message, page_index=index)
            return PageResult(index=index, error=error, latency_s=time.perf_counter() - started)

    async def _read_page(
        self,
        document: Document,
        index: int,
        on_chunk: OnChunk | None,
        sampling: Sampling | None,
        use_text_layer: bool | None,
        on_attempt: OnAttempt | None = None,
    ) -> PageResult:
        started = time.perf_counter()
        if use_text_layer is None:
            use_text_layer = self.settings.use_text_layer
        use_text_layer = use_text_layer and sampling is None
        try:
            prepared = await prepare(document, index, use_text_layer=use_text_layer)
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
        request_id = uuid.uuid4().hex
        rerun = None
        await self._effective_max_tokens()  # learns the server's capacity before taking a slot
        async with self._slots:
            started = time.perf_counter()
            outcome, attempts = await self._complete(
                prepared.data_uri, index, request_id, on_chunk, sampling, on_attempt
            )
            if isinstance(outcome, Completion) and self.settings.rerun_runaway and sampling is None:
                rerun = rerun_reason(outcome.text)
                if rerun is not None:
                    logger.info("page %d came back %s: asking again", index + 1, rerun)
                    second, more = await self._complete(
                        prepared.data_uri, index, request_id, on_chunk, sampling=self._rerun
                    )
                    attempts += more
                    if isinstance(second, Completion) and rerun_reason(second.text) is None:
                        outcome = second
        base = PageResult(
            index=index,
            latency_s=time.perf_counter() - started,
            attempts=attempts,
            has_text_layer=prepared.has_text_layer,
            width=width,
            height=height,
            request_id=request_id if attempts else None,
        )
        return answered_page(base, outcome, strict=self.settings.strict, rerun=rerun)

    # --- documents -----------------------------------------------------------------------------

    async def _load(self, data: bytes, filename: str | None, password: str | None) -> Document:
        return await asyncio.to_thread(
            load_document,
            data,
            filename=filename,
            password=password,
            max_pages=self.settings.documents.max_pages,
            settings=await self.document_settings(),
        )

    async def ocr_image(self, image_bytes: bytes, *, filename: str | None = None) -> PageResult:
        """OCR one image (any type load_document reads; the first page of anything else).

        Invalid input raises its typed error; service failures come back as the page's error.
        """
        document = await self._load(image_bytes, filename, None)
        try:
            return await self.ocr_page(document, 0)
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

        Pages are rendered lazily: at most `concurrency` requests (or the server's stated
        capacity) are in flight and a few more pages rendered ahead, never the whole
        document. Document-level problems (corrupt, encrypted, too many pages) raise before
        the first page; anything that goes wrong with one page is that page's `error`.
        Leaving the loop early cancels the rest.

        `on_chunk` gets each piece of text as it arrives (answers are always streamed). It
        runs on the event loop, so keep it quick; if a page is retried its chunks start over, and
        the PageResult's text is the one to keep.
        """
        document = await self._load(data, filename, password)

        async def ocr_one(index: int) -> PageResult:
            return await self.ocr_page(document, index, on_chunk=on_chunk)

        try:
            async for page in iter_pages(document, ocr_one, self._slots.limit):
                yield page
        finally:
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
