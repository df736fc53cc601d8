"""PDF pages through pdfium: the page count and text layer of an open file, and page images.

Rendering goes through one plain function, `render_pdf_page(data, index, password=...,
limits=...)`: bytes in, an image out, no state shared with the caller. That is the boundary a
sandboxed worker process (with rlimits) can take over, since hostile PDFs are parsed here.
Opening the file again for each page measured 1-16 ms on the corpus PDFs, and rendering all
pages of `pdflatex-4-pages.pdf` took 0.11 s before and after this boundary.

pdfium is not thread-safe and the client renders pages from worker threads, so every pdfium
call goes through `_PDFIUM_LOCK`, and every pdfium object is closed explicitly under it
rather than left to a garbage-collector finaliser running on whatever thread it likes.
"""

from __future__ import annotations

import math
import threading
import unicodedata

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import Image

from ._config import DocumentSettings
from ._exceptions import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    OCRError,
    PageRenderError,
    PageTooLarge,
)
from ._imaging import describe_pixels
from ._text import clean_text

_PDFIUM_LOCK = threading.RLock()

# How deep to look into nested form XObjects for images (pdfium's own helper default).
_FORM_DEPTH = 15

# A text layer is "usable" when it has at least this many letters or digits and almost no
# characters that only broken font encodings produce (private-use, unassigned, controls,
# U+FFFD). Fewer real characters than this (a page number, a stray header) is a scan.
MIN_TEXT_LAYER_CHARS = 16
_MAX_GARBAGE_FRACTION = 0.05
_MIN_ALNUM_FRACTION = 0.5


def render_pdf_page(
    data: bytes, index: int, *, password: str | None, limits: DocumentSettings
) -> Image.Image:
    """Page `index` of the PDF in `data`, longest side `limits.longest_side`, as RGB.

    Raises `PageTooLarge` for a page no scan has (from its size and its images' headers,
    before any pixel is decoded) and `PageRenderError` for anything pdfium cannot draw.
    """
    with _PDFIUM_LOCK:
        pdf = _open(data, password)
        try:
            page = pdf.get_page(index)
            try:
                return _render(page, limits)
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise PageRenderError(f"this PDF page cannot be rendered ({exc})") from exc
        except MemoryError as exc:
            raise PageRenderError("there was not enough memory to render this page") from exc
        finally:
            pdf.close()


def _open(data: bytes, password: str | None) -> pdfium.PdfDocument:
    try:
        pdf = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        raise _open_error(exc, password) from exc
    # Filled-in forms draw their field values only with a form environment.
    pdf.init_forms()
    return pdf


def _render(page: pdfium.PdfPage, limits: DocumentSettings) -> Image.Image:
    # Sizes are as displayed: pdfium applies /Rotate and the crop box.
    width, height = page.get_size()
    _check_size(width, height, limits.max_page_points)
    _check_images(page, limits.max_image_pixels)
    scale = render_scale(width, height, limits.longest_side)
    bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=True)
    try:
        # RGB is not a shared-buffer mode in Pillow: to_pil() copies the pixels.
        image: Image.Image = bitmap.to_pil()
    finally:
        bitmap.close()
    return image


def _check_size(width: float, height: float, cap: float) -> None:
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise PageRenderError(f"the page has no drawable area ({width:g} x {height:g} pt)")
    if max(width, height) > cap:
        raise PageTooLarge(
            f"the page is {width / 72:.0f} x {height / 72:.0f} in, larger than the "
            f"{cap / 72:.0f} in any scanned page has"
        )


def _check_images(page: pdfium.PdfPage, limit: int) -> None:
    """Refuse a page whose embedded images are decompression bombs, from their headers.

    pdfium decodes every image at full size before scaling it onto the page, so a tiny
    stream claiming 20000 x 20000 pixels would otherwise cost gigabytes at render time.
    """
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=_FORM_DEPTH):
        width, height = obj.get_px_size()
        if width * height > limit:
            raise PageTooLarge(
                f"the page holds an image of {describe_pixels(width, height)}, "
                f"more than the limit of {limit / 1e6:.0f} megapixels"
            )


def render_scale(width: float, height: float, longest_side: int) -> float:
    """Pixels per point so the longest side renders to exactly `longest_side`.

    Just under the exact ratio, because pypdfium2 rounds rendered sizes up (ceil).
    """
    return (longest_side - 0.5) / max(width, height)


class PdfSource:
    """An open PDF: its page count and text layers; page images via `render_pdf_page`."""

    def __init__(self, data: bytes, password: str | None, settings: DocumentSettings) -> None:
        self._data = data
        self._password = password
        self._settings = settings
        with _PDFIUM_LOCK:
            self._pdf: pdfium.PdfDocument | None = _open(data, password)
            self.page_count: int = len(self._pdf)

    def close(self) -> None:
        with _PDFIUM_LOCK:
            if self._pdf is not None:
                self._pdf.close()
                self._pdf = None

    def _document(self) -> pdfium.PdfDocument:
        if self._pdf is None:
            raise PageRenderError("the document was closed before this page was read")
        return self._pdf

    def render(self, index: int) -> Image.Image:
        self._document()  # a closed document renders nothing, as its text layer reads nothing
        return render_pdf_page(self._data, index, password=self._password, limits=self._settings)

    def text(self, index: int) -> str | None:
        with _PDFIUM_LOCK:
            try:
                page = self._document().get_page(index)
                try:
                    textpage = page.get_textpage()
                    try:
                        raw: str = textpage.get_text_range()
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except pdfium.PdfiumError as exc:
                raise PageRenderError(f"the page cannot be read: {exc}") from exc
        return usable_text(raw)


def _open_error(exc: pdfium.PdfiumError, password: str | None) -> OCRError:
    code = exc.err_code
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        if password is None:
            return EncryptedDocument("this PDF is password-protected; give its password to open it")
        return EncryptedDocument("the password given for this PDF is wrong")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return EncryptedDocument("this PDF uses an encryption scheme that cannot be opened")
    if code == pdfium_c.FPDF_ERR_SUCCESS:
        return EmptyDocument("the PDF has no pages")
    return CorruptDocument("the PDF is damaged or truncated and cannot be read")


def usable_text(raw: str) -> str | None:
    """The text if it reads as real text, else None (scans, blank pages, broken font maps).

    A scan that was OCR'd before (an invisible text layer) counts as digital: that text is
    what the earlier OCR read, and the caller decides whether to trust it.
    """
    text = clean_text(raw).strip()
    visible = [c for c in text if not c.isspace()]
    alnum = sum(1 for c in visible if c.isalnum())
    if alnum < MIN_TEXT_LAYER_CHARS:
        return None
    garbage = sum(1 for c in visible if _is_garbage(c))
    if garbage > _MAX_GARBAGE_FRACTION * len(visible) or alnum < _MIN_ALNUM_FRACTION * len(visible):
        return None
    return text


def _is_garbage(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) in ("Co", "Cn", "Cs", "Cc")


__all__ = ["MIN_TEXT_LAYER_CHARS", "PdfSource", "render_pdf_page", "render_scale", "usable_text"]
