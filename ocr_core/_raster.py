"""Raster files (PNG, JPEG, TIFF, WebP, BMP, GIF) as pages, through Pillow.

Sizes are checked from the header before pixels are decoded; a JPEG larger than needed is
decoded at a reduced scale; EXIF/TIFF orientation is applied so pages read upright.
"""

from __future__ import annotations

import io
import re
import threading

from PIL import ExifTags, Image, UnidentifiedImageError

from ._config import DocumentSettings
from ._exceptions import CorruptDocument, ImageTooLarge, PageRenderError, PageTooLarge
from ._imaging import describe_pixels, draft_size, fit_longest_side, to_model_mode, upright

_PIL_FORMATS = {
    "png": "PNG",
    "jpeg": "JPEG",
    "tiff": "TIFF",
    "webp": "WEBP",
    "bmp": "BMP",
    "gif": "GIF",
}
_DISPLAY_NAMES = {"webp": "WebP"}


class RasterSource:
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
            self.page_count: int = getattr(self._image, "n_frames", 1) if kind == "tiff" else 1
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


def _too_many_pixels(size: tuple[int, int], limit: int) -> str:
    pixels = describe_pixels(*size)
    return f"the image is {pixels}, more than the limit of {limit / 1e6:.0f} megapixels"


def _bomb_message(exc: Image.DecompressionBombError, limit: int) -> str:
    """Pillow refused the header before we could read it; its message holds the pixel count."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = f" has {int(found.group(1)) / 1e6:.0f} megapixels," if found else " is"
    return f"the image{pixels} more than the limit of {limit / 1e6:.0f} megapixels"


__all__ = ["RasterSource"]
