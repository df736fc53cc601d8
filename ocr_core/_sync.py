"""SyncOCRClient: the blocking face of OCRClient for scripts and Streamlit.

It drives one OCRClient on a private event loop in a daemon thread, so callers on many
threads (Streamlit reruns on many) share a single breaker, token cache and connection pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx

from ._auth import IdTokenFetcher
from ._breaker import CircuitBreaker
from ._client import OCRClient, OnAttempt
from ._config import ClientSettings, DocumentSettings, Sampling
from ._documents import Document
from ._http import OnChunk
from ._models import DocumentResult, PageResult, WarmUpReport
from ._retry import Sleep

T = TypeVar("T")


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

    @property
    def capacity(self) -> int:
        return self._client.capacity

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

    def models(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        return self._run(self._client.models(timeout=timeout))

    def document_settings(self) -> DocumentSettings:
        return self._run(self._client.document_settings())

    def metrics_text(self, *, timeout: float | None = None) -> str:
        return self._run(self._client.metrics_text(timeout=timeout))

    def extract_text(self, image_bytes: bytes, *, filename: str | None = None) -> str:
        return self._run(self._client.extract_text(image_bytes, filename=filename))

    def ocr_image(self, image_bytes: bytes, *, filename: str | None = None) -> PageResult:
        return self._run(self._client.ocr_image(image_bytes, filename=filename))

    def ocr_page(
        self,
        document: Document,
        index: int,
        *,
        on_chunk: OnChunk | None = None,
        sampling: Sampling | None = None,
        use_text_layer: bool | None = None,
        on_attempt: OnAttempt | None = None,
    ) -> PageResult:
        """OCR one page of a document the caller opened (and closes); see OCRClient.ocr_page."""
        return self._run(
            self._client.ocr_page(
                document,
                index,
                on_chunk=on_chunk,
                sampling=sampling,
                use_text_layer=use_text_layer,
                on_attempt=on_attempt,
            )
        )

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

    def warm_up(self, timeout: float | None = None) -> WarmUpReport:
        return self._run(self._client.warm_up(timeout))
