"""Bytes in, pages out: the one door every upload, scan and API call goes through.

The type is decided by the content's magic bytes, never by the file name, because uploads
arrive misnamed ("scan.pdf" that is a JPEG, "document" with no extension). Pages are produced
lazily: a `Document` holds only the parsed file, and each `Page` renders its image on first
use, so a 500-page PDF costs one page image of memory at a time.

Failures are typed (see `_exceptions.py`) and worded for the person who uploaded the file.
Whole-document problems (empty, corrupt, encrypted, unsupported, too many pages, a bomb) are
raised by `load_document`; a page that cannot be rendered raises `PageRenderError` from its
own `.image` and leaves its siblings readable.

pdfium is not thread-safe and the client renders pages from worker threads, so every pdfium
call goes through `_PDFIUM_LOCK`, and every pdfium object is closed explicitly under it
rather than left to a garbage-collector finaliser running on whatever thread it likes.
"""

from __future__ import annotations

import io
import json
import math
import re
import threading
import unicodedata
import weakref
import zipfile
from collections.abc import Iterator
from types import TracebackType
from typing import Protocol

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import ExifTags, Image, UnidentifiedImageError

from ._config import DocumentSettings
from ._exceptions import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    OCRError,
    PageLimitExceeded,
    PageRenderError,
    PageTooLarge,
    UnsupportedDocument,
)
from ._imaging import (
    EncodedImage,
    draft_size,
    encode_image,
    fit_longest_side,
    to_model_mode,
    upright,
)

_PDFIUM_LOCK = threading.RLock()

SUPPORTED_KINDS = ("pdf", "png", "jpeg", "tiff", "webp", "bmp", "gif")
_PIL_FORMATS = {
    "png": "PNG",
    "jpeg": "JPEG",
    "tiff": "TIFF",
    "webp": "WEBP",
    "bmp": "BMP",
    "gif": "GIF",
}
_DISPLAY_NAMES = {"webp": "WebP"}
# Scans without copying a large upload, unlike bytes.strip().
_BLANK = re.compile(rb"[\x00\s]*")
_WHAT_WE_READ = "a PDF, or a PNG, JPEG, TIFF, WebP, BMP or GIF image"

# A text layer is "usable" when it has at least this many letters or digits and almost no
# characters that only broken font encodings produce (private-use, unassigned, controls,
# U+FFFD). Fewer real characters than this (a page number, a stray header) is a scan.
MIN_TEXT_LAYER_CHARS = 16
_MAX_GARBAGE_FRACTION = 0.05
_MIN_ALNUM_FRACTION = 0.5


# --- pages and documents ---------------------------------------------------------------------


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
        except OCRError as exc:
            exc.page_index = index
            raise
        except (pdfium.PdfiumError, OSError, ValueError, SyntaxError, MemoryError) as exc:
            raise PageRenderError(_render_failure(self.kind, exc), page_index=index) from exc

    def _text_layer(self, index: int) -> str | None:
        source = self._open_source(index)
        try:
            return source.text(index)
        except pdfium.PdfiumError as exc:
            raise PageRenderError(f"the page cannot be read: {exc}", page_index=index) from exc


def _render_failure(kind: str, exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "there was not enough memory to render this page"
    detail = str(exc) or type(exc).__name__
    if kind == "pdf":
        return f"this PDF page cannot be rendered ({detail})"
    return f"this image frame is damaged or truncated and cannot be decoded ({detail})"


# --- loading ---------------------------------------------------------------------------------


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
    if kind == "pdf":
        source = _PdfSource(data, password or None, settings)
    else:
        source = _ImageSource(data, kind, settings)
    if source.page_count > limit:
        source.close()
        raise PageLimitExceeded(
            f"the document has {source.page_count} pages, more than the limit of {limit}; "
            "split it or raise the page limit",
            page_count=source.page_count,
            limit=limit,
        )
    return Document(source, kind=kind, filename=filename, settings=settings)


# --- type detection --------------------------------------------------------------------------


def detect_kind(data: bytes, *, filename: str | None = None) -> str:
    """One of SUPPORTED_KINDS, by magic bytes; else UnsupportedDocument naming the content."""
    head = data[:64]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if _looks_like_bmp(head):
        return "bmp"
    detected = describe_content(data)
    subject = f"{filename!r} is" if filename else "this file is"
    advice = next((tip for word, tip in _ADVICE if word in detected), "")
    raise UnsupportedDocument(
        f"{subject} {detected}, not a type we read; send {_WHAT_WE_READ}{advice}",
        detected=detected,
    )


# What to do with the unsupported things people most often upload, keyed by a word of the name.
_ADVICE = (
    ("document", " (export or print it to PDF first)"),
    ("workbook", " (export or print it to PDF first)"),
    ("presentation", " (export or print it to PDF first)"),
    ("e-book", " (export or print it to PDF first)"),
    ("PostScript", " (convert it to PDF first)"),
    ("EPS", " (convert it to PDF first)"),
    ("photo", " (save it as JPEG first)"),
    ("archive", " (unpack it and send the files inside)"),
)


def _looks_like_bmp(head: bytes) -> bool:
    # "BM" alone also starts plain text; the DIB header size right after it is distinctive.
    return (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in (12, 16, 40, 52, 56, 64, 108, 124)
    )


_BINARY_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "a legacy Microsoft Office document (DOC/XLS/PPT)"),
    (b"{\\rtf", 0, "an RTF document"),
    (b"%!PS", 0, "a PostScript file"),
    (b"\xc5\xd0\xd3\xc6", 0, "an EPS file"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"\xfd7zXZ\x00", 0, "an XZ archive"),
    (b"BZh", 0, "a bzip2 archive"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 image"),
    (b"\xff\x0a", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image"),
    (b"AT&TFORM", 0, "a DjVu document"),
    (b"8BPS", 0, "a Photoshop (PSD) image"),
    (b"\x00\x00\x01\x00", 0, "an ICO icon"),
    (b"\x7fELF", 0, "a program (ELF executable)"),
    (b"MZ", 0, "a Windows program"),
    (b"OggS", 0, "an Ogg audio/video file"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"fLaC", 0, "a FLAC audio file"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
)

_FTYP_BRANDS = {
    b"heic": "a HEIC photo",
    b"heix": "a HEIC photo",
    b"hevc": "a HEIC photo",
    b"mif1": "a HEIF photo",
    b"msf1": "a HEIF photo",
    b"avif": "an AVIF image",
    b"avis": "an AVIF image",
}


def describe_content(data: bytes) -> str:
    """A short human phrase for what unsupported bytes are ("a ZIP archive", "plain text")."""
    for signature, offset, name in _BINARY_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return name
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _describe_zip(data)
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12], "a video (MP4/QuickTime)")
    if data[:4] == b"RIFF":
        return {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}.get(
            data[8:12], "a RIFF media file"
        )
    text = _as_text(data[:8192])
    if text is None:
        return "unrecognised binary data"
    return _describe_text(text, data)


def _describe_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            mimetype = (
                archive.read("mimetype").decode("ascii", "replace") if ("mimetype" in names) else ""
            )
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return "a ZIP archive"
    if any(n.startswith("word/") for n in names):
        return "a Word document (DOCX)"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (XLSX)"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation (PPTX)"
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        return "an OpenDocument document (ODF)"
    if mimetype == "application/epub+zip":
        return "an EPUB e-book"
    if any("FixedDocumentSequence" in n for n in names):
        return "an XPS document"
    return "a ZIP archive"


def _as_text(head: bytes) -> str | None:
    """The sample as text when it reads as text: UTF-8/16, or a mostly printable 8-bit charset."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore")
    text = _utf8_prefix(head)
    if text is None:
        if b"\x00" in head:
            return None
        text = head.decode("latin-1")
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t\f")
    return text if text and printable / len(text) > 0.95 else None


def _utf8_prefix(head: bytes) -> str | None:
    # The sample may end inside a multi-byte character: drop up to 3 bytes before giving up.
    for cut in range(min(4, len(head))):
        try:
            return head[: len(head) - cut].decode("utf-8", "strict")
        except UnicodeDecodeError:
            continue
    return None


def _describe_text(text: str, data: bytes) -> str:
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:2048]:
        return "an HTML page"
    if lowered.startswith("<svg") or (lowered.startswith("<?xml") and "<svg" in lowered):
        return "an SVG image"
    if lowered.startswith("<?xml"):
        return "an XML file"
    if lowered.startswith(("{", "[")):
        try:
            json.loads(data)
        except ValueError:
            pass
        else:
            return "a JSON file"
    return "plain text"


# --- PDF -------------------------------------------------------------------------------------


# How deep to look into nested form XObjects for images (pdfium's own helper default).
_FORM_DEPTH = 15


class _PdfSource:
    def __init__(self, data: bytes, password: str | None, settings: DocumentSettings) -> None:
        self._settings = settings
        with _PDFIUM_LOCK:
            try:
                self._pdf: pdfium.PdfDocument | None = pdfium.PdfDocument(data, password=password)
            except pdfium.PdfiumError as exc:
                raise _open_error(exc, password) from exc
            self.page_count = len(self._pdf)
            # Filled-in forms draw their field values only with a form environment.
            self._pdf.init_forms()

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
        longest = self._settings.longest_side
        with _PDFIUM_LOCK:
            page = self._document().get_page(index)
            try:
                # Sizes are as displayed: pdfium applies /Rotate and the crop box.
                width, height = page.get_size()
                self._check_size(width, height)
                self._check_images(page)
                scale = render_scale(width, height, longest)
                bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=True)
                try:
                    # RGB is not a shared-buffer mode in Pillow: to_pil() copies the pixels.
                    image = bitmap.to_pil()
                finally:
                    bitmap.close()
            finally:
                page.close()
        return image

    def _check_size(self, width: float, height: float) -> None:
        cap = self._settings.max_page_points
        if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
            raise PageRenderError(f"the page has no drawable area ({width:g} x {height:g} pt)")
        if max(width, height) > cap:
            raise PageTooLarge(
                f"the page is {width / 72:.0f} x {height / 72:.0f} in, larger than the "
                f"{cap / 72:.0f} in any scanned page has"
            )

    def _check_images(self, page: pdfium.PdfPage) -> None:
        """Refuse a page whose embedded images are decompression bombs, from their headers.

        pdfium decodes every image at full size before scaling it onto the page, so a tiny
        stream claiming 20000 x 20000 pixels would otherwise cost gigabytes at render time.
        """
        limit = self._settings.max_image_pixels
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=_FORM_DEPTH):
            width, height = obj.get_px_size()
            if width * height > limit:
                raise PageTooLarge(
                    f"the page holds an image of {_pixels((width, height))}, "
                    f"more than the limit of {limit / 1e6:.0f} megapixels"
                )

    def text(self, index: int) -> str | None:
        with _PDFIUM_LOCK:
            page = self._document().get_page(index)
            try:
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
        return usable_text(raw)


def render_scale(width: float, height: float, longest_side: int) -> float:
    """Pixels per point so the longest side renders to exactly `longest_side`.

    Just under the exact ratio, because pypdfium2 rounds rendered sizes up (ceil).
    """
    return (longest_side - 0.5) / max(width, height)


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
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
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


# --- images ----------------------------------------------------------------------------------


class _ImageSource:
    """A raster file. TIFF frames are pages; other formats are one page (an animated GIF or
    WebP, or the preview image inside a camera's MPO JPEG, is not a paged document).

    The first page is decoded while loading, so a truncated or corrupt single image is
    reported as a `CorruptDocument` up front rather than as a failed page later.

    Pixel counts are checked against `settings.max_image_pixels` from the header, before
    decoding. Pillow's own process-wide guard still applies on top (it refuses anything over
    twice `Image.MAX_IMAGE_PIXELS` when opening), so the setting can lower the bar, not lift
    it; we leave that global alone because other code in the process shares it.
    """

    def __init__(self, data: bytes, kind: str, settings: DocumentSettings) -> None:
        self._settings = settings
        self._kind = kind
        self._lock = threading.Lock()
        name = _DISPLAY_NAMES.get(kind, _PIL_FORMATS[kind])
        try:
            self._image: Image.Image | None = Image.open(
                io.BytesIO(data), formats=[_PIL_FORMATS[kind]]
            )
            self.page_count = getattr(self._image, "n_frames", 1) if kind == "tiff" else 1
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(_bomb_message(exc, settings.max_image_pixels)) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptDocument(f"the {name} image is damaged or truncated: {exc}") from exc
        self._first: Image.Image | None = None
        try:
            self._first = self.render(0)
        except ImageTooLarge as exc:
            self.close()
            raise ImageTooLarge(exc.message) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            self.close()
            raise CorruptDocument(f"the {name} image is damaged or truncated: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._image is not None:
                self._image.close()
                self._image = None
            self._first = None

    def text(self, index: int) -> str | None:
        return None

    def render(self, index: int) -> Image.Image:
        if index == 0 and self._first is not None:
            return self._first
        longest = self._settings.longest_side
        limit = self._settings.max_image_pixels
        with self._lock:
            image = self._image
            if image is None:
                raise PageRenderError("the document was closed before this page was read")
            try:
                image.seek(index)
                width, height = image.size
                # Checked from the header, before a single pixel is decoded.
                if width * height > limit:
                    raise PageTooLarge(_too_many_pixels((width, height), limit))
                orientation = image.getexif().get(ExifTags.Base.Orientation)
                if self._kind == "jpeg" and max(width, height) > longest:
                    # Decode at 1/2, 1/4 or 1/8 scale when that still leaves enough pixels.
                    image.draft(image.mode, draft_size(width, height, longest))
                frame = image.copy()
            except Image.DecompressionBombError as exc:
                raise PageTooLarge(_bomb_message(exc, limit)) from exc
        frame = fit_longest_side(to_model_mode(frame), longest)
        return upright(frame, orientation)


def _pixels(size: tuple[int, int]) -> str:
    width, height = size
    return f"{width} x {height} pixels ({width * height / 1e6:.0f} megapixels)"


def _too_many_pixels(size: tuple[int, int], limit: int) -> str:
    return f"the image is {_pixels(size)}, more than the limit of {limit / 1e6:.0f} megapixels"


def _bomb_message(exc: Image.DecompressionBombError, limit: int) -> str:
    """Pillow refused the header before we could read it; its message holds the pixel count."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = f" has {int(found.group(1)) / 1e6:.0f} megapixels," if found else " is"
    return f"the image{pixels} more than the limit of {limit / 1e6:.0f} megapixels"


__all__ = [
    "MIN_TEXT_LAYER_CHARS",
    "SUPPORTED_KINDS",
    "Document",
    "EncodedImage",
    "Page",
    "describe_content",
    "detect_kind",
    "encode_image",
    "load_document",
    "render_scale",
    "usable_text",
]
