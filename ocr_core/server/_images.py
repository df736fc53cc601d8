"""Page images from untrusted data URIs: checked from the header, decoded at a bounded size.

Two steps, so memory stays bounded whatever is sent. `open_image` runs on the request path:
it reads only the header (and walks PNG chunks) and refuses what is too large, never
decoding pixels. `shrink` runs in the engine's worker thread, inside the request's slot: an
image larger than the engine needs is decoded once (JPEG at a reduced DCT scale), under a
process-wide byte budget so concurrent big decodes queue instead of adding up, and reduced
before the engine sees it. Images already small enough pass through undecoded.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
import threading
import warnings
from collections.abc import Iterator

from PIL import (  # imported to register them: `Image.open(formats=...)` sees loaded ones only
    BmpImagePlugin,  # noqa: F401
    GifImagePlugin,  # noqa: F401
    Image,
    Jpeg2KImagePlugin,  # noqa: F401
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    PpmImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

from ._errors import RequestError

# A pixel cap of our own so a decompression bomb is a 400, never a server out of memory.
MAX_IMAGE_PIXELS = 100_000_000
# Twice the 1540 px page the client and the model card render: enough for any engine's detail.
MAX_DECODE_SIDE = 3080
# Decoded pixels held at once by oversized images, across all requests. One image under
# MAX_IMAGE_PIXELS always fits (100 Mpx x 5 bytes for a palette image converted to RGBA).
DECODE_BUDGET_BYTES = 512 * 1024 * 1024
# Formats a page scan comes in; Pillow's others (EPS runs Ghostscript, PSD, ...) are refused.
FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF", "PPM", "JPEG2000")
# How much more than the target size an integer reduction may leave before the final resample.
REDUCING_GAP = 3.0

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?),", re.DOTALL)
# Bytes per pixel as Pillow stores each mode (RGB takes 4); the rest take 4.
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}


def open_image(url: str) -> Image.Image:
    """A `data:image/...;base64,...` URI -> a PIL image (first frame), checked, not decoded.

    The header and the file structure are checked here (`verify` walks PNG chunks and
    their checksums without inflating pixels); the pixels are decoded in the worker thread.
    """
    match = _DATA_URI.match(url)
    if not match:
        raise RequestError(
            "image_url must be a data URI (data:image/png;base64,...); "
            "the local server fetches no URLs",
            param="messages",
        )
    mime = match.group("mime") or ""
    if mime and not mime.startswith("image/"):
        raise RequestError(f"the data URI holds {mime}, not an image", param="messages")
    if "base64" not in match.group("params").split(";"):
        raise RequestError("the image data URI must be base64-encoded", param="messages")
    try:
        data = base64.b64decode(url[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("the image data is not valid base64", param="messages") from None
    if not data:
        raise RequestError("the image data is empty", param="messages")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.open(io.BytesIO(data), formats=FORMATS).verify()
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RequestError(f"the image is too large: {exc}", param="messages") from None
    except Exception as exc:  # PIL raises many types for corrupt or unknown data
        raise RequestError(
            f"the data is not an image PIL can read ({type(exc).__name__}); "
            f"send one of {', '.join(FORMATS)}",
            param="messages",
        ) from None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise RequestError(
            f"the image has {image.width}x{image.height} pixels, more than "
            f"{MAX_IMAGE_PIXELS} allowed",
            param="messages",
        )
    return image


def undecodable(exc: Exception) -> RequestError | None:
    """The 400 for pixel data that passed the header checks but will not decode, if it is one.

    PIL reports truncated or corrupt image data as OSError (or SyntaxError in old plugins).
    """
    if isinstance(exc, OSError | SyntaxError):
        return RequestError(
            f"the image data is corrupt or truncated ({type(exc).__name__}: {exc})",
            param="messages",
        )
    return None


class DecodeBudget:
    """Bytes of decoded pixels that may be held at once; a decode waits for its share.

    Blocking (a threading condition), because decoding runs in the engine's worker threads.
    """

    def __init__(self, total_bytes: int = DECODE_BUDGET_BYTES) -> None:
        self.total = total_bytes
        self._free = total_bytes
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        share = min(nbytes, self.total)  # one image alone may always proceed
        with self._changed:
            self._changed.wait_for(lambda: self._free >= share)
            self._free -= share
        try:
            yield
        finally:
            with self._changed:
                self._free += share
                self._changed.notify_all()


def decoded_bytes(image: Image.Image) -> int:
    """Bytes the image takes once decoded, with the conversion `shrink` makes."""
    per_pixel = _PIXEL_BYTES.get(image.mode, 4)
    per_pixel += {"P": 4, "1": 1}.get(image.mode, 0)
    return image.width * image.height * per_pixel


def shrink(
    image: Image.Image, budget: DecodeBudget, max_side: int = MAX_DECODE_SIDE
) -> Image.Image:
    """The image with its longest side at most `max_side`, decoded under `budget`.

    Blocking; call it in a worker thread. An image already small enough is returned as is.
    """
    if max(image.size) <= max_side:
        return image
    # JPEG decodes straight at 1/2, 1/4 or 1/8 scale; other formats ignore the draft.
    gap = round(max_side * REDUCING_GAP)
    image.draft(None, (gap, gap))
    with budget.hold(decoded_bytes(image)):
        image.load()
        if image.mode == "1":  # a fax page: average the dots, do not drop them
            image = image.convert("L")
        elif image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, REDUCING_GAP)
    return image
