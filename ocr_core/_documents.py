"""Bytes in, pages out: the one door every upload, scan and API call goes through.

`load_document` sniffs the type (`_sniff`), opens a PDF (`_pdf`) or a raster file
(`_raster`), and checks the page cap. Pages are produced lazily: a `Document` holds only the
parsed file, and each `Page` renders its image on first use, so a 500-page PDF costs one page
image of memory at a time.

Failures are typed (see `_exceptions.py`) and worded for the person who uploaded the file.
Whole-document problems (empty, corrupt, encrypted, unsupported, too many pages, a bomb) are
raised by `load_document`; a page that cannot be rendered raises `PageRenderError` from its
own `.image` and leaves its siblings readable.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import NoReturn, Protocol

from PIL import Image

from ._config import DocumentSettings
from ._exceptions import EmptyDocument, OCRError, PageLimitExceeded, PageRenderError
from ._imaging import EncodedImage, encode_image
from ._isolated import IsolatedSource
from ._pdf import PdfSource
from ._raster import RasterSource
from ._sandbox import shared_sandbox
from ._sniff import detect_kind

# Scans without copying a large upload, unlike bytes.strip().
_BLANK = re.compile(rb"[\x00\s]*")


class _Source(Protocol):
    page_count: int

    def render(self, index: int) -> Image.Image: ...

    def text(self, index: int) -> str | None: ...

    def close(self) -> None: ...


class Page:
    """One page: its image rendered on first access and kept, and its text layer if it has one."""

    def __init__(self, document: Document, index: int) -> None:
        self.index = index
        self._document = document
        self._image: Image.Image | None = None
        self._text_layer: str | None = None
        self._text_read = False

    def __repr__(self) -> str:
        return f"Page(index={self.index}, rendered={self._image is not None})"

    @property
    def image(self) -> Image.Image:
        """RGB or L, longest side = settings.longest_side; PageRenderError if it cannot be drawn."""
        if self._image is None:
            self._image = self._document._render(self.index)
        return self._image

    @property
    def text_layer(self) -> str | None:
        """The page's own text when it is a digital page with a usable text layer, else None."""
        if not self._text_read:
            self._text_layer = self._document._text_layer(self.index)
            self._text_read = True
        return self._text_layer

    @property
    def has_text_layer(self) -> bool:
        return self.text_layer is not None

    def encode(self) -> EncodedImage:
        """The page image as the request carries it."""
        return encode_image(self.image)


class Document:
    """A parsed document. Use it as a context manager so pdfium and Pillow handles are freed."""

    def __init__(
        self, source: _Source, *, kind: str, filename: str | None, settings: DocumentSettings
    ) -> None:
        self.kind = kind
        self.filename = filename
        self.page_count = source.page_count
        self.settings = settings
        self._source: _Source | None = source
        # A forgotten close() still frees pdfium memory, under the lock, when the document goes.
        self._finalizer = weakref.finalize(self, source.close)

    def __repr__(self) -> str:
        return (
            f"Document(kind={self.kind!r}, filename={self.filename!r}, "
            f"page_count={self.page_count}, closed={self.closed})"
        )

    def __enter__(self) -> Document:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._source is None

    def close(self) -> None:
        """Free the parsed file. Pages already rendered keep their images."""
        self._source = None
        self._finalizer()

    def pages(self) -> Iterator[Page]:
        """Every page in order, each rendered only when its image is asked for."""
        for index in range(self.page_count):
            yield Page(self, index)

    def page(self, index: int) -> Page:
        if not 0 <= index < self.page_count:
            raise IndexError(f"page index {index} is out of range (0..{self.page_count - 1})")
        return Page(self, index)

    def _open_source(self, index: int) -> _Source:
        if self._source is None:
            raise PageRenderError(
                "the document was closed before this page was read", page_index=index
            )
        return self._source

    def _render(self, index: int) -> Image.Image:
        source = self._open_source(index)
        try:
            return source.render(index)
        except Exception as exc:
            _raise_page_error(exc, index)

    def _text_layer(self, index: int) -> str | None:
        source = self._open_source(index)
        try:
            return source.text(index)
        except OCRError as exc:
            raise exc.on_page(index) from exc.__cause__

    async def read_image(self, index: int) -> Image.Image:
        """The page's image, rendered without holding a thread while an isolated page waits
        for its document's turn in the sandbox (so many documents cannot use up the threads
        and queue behind each other, whatever the lanes decide)."""
        source = self._open_source(index)
        if not isinstance(source, IsolatedSource):
            return await asyncio.to_thread(self._render, index)
        try:
            return await source.arender(index)
        except Exception as exc:
            _raise_page_error(exc, index)

    async def read_for_ocr(
        self, index: int, *, use_text_layer: bool
    ) -> tuple[str | None, Image.Image | None]:
        """(text layer or None, image or None): the page as OCR needs it, in one turn of the
        sandbox; the image is left out when the text layer is there and used."""
        source = self._open_source(index)
        if not isinstance(source, IsolatedSource):
            text = await asyncio.to_thread(self._text_layer, index)
            if use_text_layer and text is not None:
                return text, None
            return text, await asyncio.to_thread(self._render, index)
        try:
            return await source.apage(index, use_text_layer)
        except Exception as exc:
            _raise_page_error(exc, index)

    async def read_text_layer(self, index: int) -> str | None:
        """The page's text layer (None without one), like `read_image` without a thread."""
        source = self._open_source(index)
        if not isinstance(source, IsolatedSource):
            return await asyncio.to_thread(self._text_layer, index)
        try:
            return await source.atext(index)
        except OCRError as exc:
            raise exc.on_page(index) from exc.__cause__


def _raise_page_error(exc: Exception, index: int) -> NoReturn:
    """A page's rendering failure as the page's typed error."""
    if isinstance(exc, OCRError):
        raise exc.on_page(index) from exc.__cause__
    if isinstance(exc, MemoryError):
        message = "there was not enough memory to render this page"
        raise PageRenderError(message, page_index=index) from exc
    if isinstance(exc, OSError | ValueError | SyntaxError):
        detail = str(exc) or type(exc).__name__
        message = f"this image frame is damaged or truncated and cannot be decoded ({detail})"
        raise PageRenderError(message, page_index=index) from exc
    raise exc


def load_document(
    data: bytes,
    *,
    filename: str | None = None,
    password: str | None = None,
    max_pages: int | None = None,
    settings: DocumentSettings | None = None,
) -> Document:
    """Open a PDF or image from its bytes; `filename` is only a hint used in messages.

    `max_pages` overrides `settings.max_pages`. Raises `EmptyDocument`, `CorruptDocument`,
    `UnsupportedDocument`, `EncryptedDocument`, `PageLimitExceeded` or `ImageTooLarge`.
    """
    settings = settings or DocumentSettings()
    if settings.longest_side < 1:
        raise ValueError(f"longest_side must be at least 1 pixel, got {settings.longest_side}")
    limit = settings.max_pages if max_pages is None else max_pages
    data = bytes(data)
    if _BLANK.fullmatch(data):
        raise EmptyDocument(
            "the file is empty" if not data else "the file holds no data, only blank bytes"
        )
    kind = detect_kind(data, filename=filename)
    source: _Source
    if settings.isolated:
        source = IsolatedSource(data, kind, password or None, settings, shared_sandbox())
    elif kind == "pdf":
        source = PdfSource(data, password or None, settings)
    else:
        source = RasterSource(data, kind, settings)
    if source.page_count > limit:
        source.close()
        raise PageLimitExceeded(
            f"the document has {source.page_count} pages, more than the limit of {limit}; "
            "split it or raise the page limit",
            page_count=source.page_count,
            limit=limit,
        )
    return Document(source, kind=kind, filename=filename, settings=settings)


__all__ = ["Document", "Page", "load_document"]
