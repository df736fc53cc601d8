"""A page as an archive keeps it: its own image at its own resolution and its size on paper.

The model reads pages resized to ~1540 px; a searchable PDF for the archive must not lose
the scan's resolution to that. So a scanned image's page is kept as its own pixels (a
JPEG page as its very bytes, a bilevel fax page as a 1-bit PNG), sized on paper by its
stated dpi, and a PDF page is rendered at 300 dpi at its own size in points.

Documents come from the public: each page is made in the document sandbox's workers
(memory, CPU and wall-time bounded, like rendering), and a page no scan has is refused
from its headers, before any pixel is decoded.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import ExifTags, Image, UnidentifiedImageError

from ._config import DocumentSettings
from ._exceptions import CorruptDocument, PageRenderError, PageTooLarge
from ._imaging import describe_pixels, to_model_mode, upright
from ._raster import _PIL_FORMATS
from ._sandbox import Sandbox, shared_sandbox
from ._sniff import detect_kind

ARCHIVE_DPI = 300.0
# An image whose stated resolution is outside this is taken at ARCHIVE_DPI: fax headers and
# phone photos state 1 or 72 dpi, which would make a letter page metres wide.
PLAUSIBLE_DPI = (100.0, 2400.0)
JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One page's image (encoded as `mime`) and its size on paper in points (1/72 in)."""

    image: bytes
    mime: str
    width_px: int
    height_px: int
    width_pt: float
    height_pt: float


def archive_page(
    data: bytes, index: int, *, password: str | None = None, sandbox: Sandbox | None = None
) -> ArchivePage:
    """Page `index` of the document in `data` as the archive keeps it (see the module)."""
    kind = detect_kind(data)
    found = (sandbox or shared_sandbox()).run(_archive_in_worker, data, kind, index, password)
    return ArchivePage(*found)


async def aarchive_page(
    data: bytes, index: int, *, password: str | None = None, sandbox: Sandbox | None = None
) -> ArchivePage:
    """`archive_page` without holding a thread while the sandbox works."""
    kind = detect_kind(data)
    found = await (sandbox or shared_sandbox()).arun(
        _archive_in_worker, data, kind, index, password
    )
    return ArchivePage(*found)


def _archive_in_worker(
    data: bytes, kind: str, index: int, password: str | None
) -> tuple[bytes, str, int, int, float, float]:
    limits = DocumentSettings()
    if kind == "pdf":
        return _pdf_page(data, index, password, limits)
    return _image_page(data, kind, index, limits)


def _image_page(
    data: bytes, kind: str, index: int, limits: DocumentSettings
) -> tuple[bytes, str, int, int, float, float]:
    try:
        return _open_image_page(data, kind, index, limits)
    except Image.DecompressionBombError as exc:
        raise PageTooLarge(f"the page is too large to keep ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"the image is damaged or truncated: {exc}") from exc


def _open_image_page(
    data: bytes, kind: str, index: int, limits: DocumentSettings
) -> tuple[bytes, str, int, int, float, float]:
    with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as image:
        image.seek(index)
        width, height = image.size
        if width * height > limits.max_image_pixels:
            raise PageTooLarge(
                f"the page is {describe_pixels(width, height)}, more than the limit of "
                f"{limits.max_image_pixels / 1e6:.0f} megapixels"
            )
        orientation = image.getexif().get(ExifTags.Base.Orientation)
        dpi_x, dpi_y = _dpi(image.info.get("dpi"))
        if kind == "jpeg" and orientation in (None, 1):
            return data, "image/jpeg", width, height, width / dpi_x * 72, height / dpi_y * 72
        frame = upright(image.copy(), orientation)
    if orientation in (5, 6, 7, 8):  # turned a quarter: so is its paper
        dpi_x, dpi_y = dpi_y, dpi_x
    size = (frame.width / dpi_x * 72, frame.height / dpi_y * 72)
    out = io.BytesIO()
    if frame.mode == "1":
        frame.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png", frame.width, frame.height, *size
    to_model_mode(frame).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg", frame.width, frame.height, *size


def _dpi(stated: object) -> tuple[float, float]:
    low, high = PLAUSIBLE_DPI
    try:
        x, y = (float(v) for v in stated)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return ARCHIVE_DPI, ARCHIVE_DPI
    if not all(math.isfinite(v) and low <= v <= high for v in (x, y)):
        return ARCHIVE_DPI, ARCHIVE_DPI
    return x, y


def _pdf_page(
    data: bytes, index: int, password: str | None, limits: DocumentSettings
) -> tuple[bytes, str, int, int, float, float]:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    from ._pdf import _PDFIUM_LOCK, _check_images, _check_size, _open

    with _PDFIUM_LOCK:
        pdf = _open(data, password)
        try:
            page = pdf.get_page(index)
            width, height = page.get_size()
            _check_size(width, height, limits.max_page_points)
            _check_images(page, limits.max_image_pixels)
            scale = ARCHIVE_DPI / 72
            pixels = width * height * scale * scale
            if pixels > limits.max_image_pixels:  # a poster: as many pixels as allowed
                scale *= math.sqrt(limits.max_image_pixels / pixels)
            bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=True)
            image = bitmap.to_pil()
            bitmap.close()
            page.close()
        except pdfium.PdfiumError as exc:
            raise PageRenderError(f"this PDF page cannot be rendered ({exc})") from exc
        finally:
            pdf.close()
    out = io.BytesIO()
    to_model_mode(image).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg", image.width, image.height, width, height


__all__ = ["ArchivePage", "aarchive_page", "archive_page"]
