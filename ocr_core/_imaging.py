"""Page images in the shape the model reads, and the bytes that carry them in a request.

Every page leaves here as an 8-bit RGB or L image whose longest side is the configured size
(1540 px, as the LightOnOCR-2 model card renders pages), in reading orientation, on white.

The request encoding is JPEG at quality 92 with 4:4:4 chroma (no subsampling), measured by
`python -m ocr_core.bench --only prep` over the shared corpus: PNG at Pillow's default level
spends from 5x (grey scans) to 8x (typeset pages) to 40x (photos) longer compressing a 1540 px
page than this JPEG does, the JPEG is no larger on average (207 vs 230 KiB a page), and the
local OCR engine reads both with the same character error rate (on the ground-truth scans the
CER was identical for every quality from 75 to 95). Quality 92 rather
than 75 is margin for the vision-language model, which could not be measured here; chroma
subsampling stays off because halving colour resolution smears coloured text (stamps, links).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field

from PIL import Image, ImageMath

JPEG_QUALITY = 92
JPEG_MIME = "image/jpeg"

_WHITE_RGBA = (255, 255, 255, 255)
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "PA", "LA", "La"})

# EXIF/TIFF Orientation tag values -> the transpose that puts the image upright.
_ORIENTATION_FIX: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class EncodedImage:
    """A page image as it travels in a chat-completions request."""

    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int

    def data_uri(self) -> str:
        """The `image_url` value vLLM's OpenAI-compatible API accepts."""
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"


def encode_image(image: Image.Image) -> EncodedImage:
    """Encode a page image for the model (see the module docstring for why JPEG 92, 4:4:4)."""
    image = to_model_mode(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    return EncodedImage(buffer.getvalue(), JPEG_MIME, image.width, image.height)


def target_size(width: float, height: float, longest_side: int) -> tuple[int, int]:
    """The size with the longest side equal to `longest_side`, aspect ratio kept.

    The short side never rounds to zero, so a 1 x 5000 strip still yields an image.
    """
    scale = longest_side / max(width, height)
    if width >= height:
        return longest_side, max(1, round(height * scale))
    return max(1, round(width * scale)), longest_side


def fit_longest_side(image: Image.Image, longest_side: int) -> Image.Image:
    """Resize so the longest side is exactly `longest_side`, upscaling small images too.

    Small images are enlarged because the model was trained on pages rendered to 1540 px:
    a 640 px scan upscaled puts its glyphs near the pixel size the model saw in training,
    which helps more than it costs (a few hundred more image tokens). Downscaling uses
    Pillow's reducing gap: a box reduction first, then Lanczos, nearly as sharp for a
    fraction of the time on 300 dpi scans.
    """
    size = target_size(image.width, image.height, longest_side)
    if size == image.size:
        return image
    downscaling = size[0] < image.width
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if downscaling else None)


def upright(image: Image.Image, orientation: int | None) -> Image.Image:
    """Apply an EXIF/TIFF Orientation value so the page reads as the camera held it."""
    method = _ORIENTATION_FIX.get(orientation or 1)
    return image if method is None else image.transpose(method)


def to_model_mode(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit L or RGB, compositing transparency onto white.

    1-bit fax images become L before any resize so that scaling antialiases their edges.
    16-bit and float images are scaled into 0-255, not clipped (Pillow's own conversion clips
    everything above 255 to white, which erases a 16-bit scan).
    """
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in _SIXTEEN_BIT_MODES:
        return _scale_to_8bit(image)
    if mode == "P":
        has_alpha = "transparency" in image.info
        return _flatten(image.convert("RGBA")) if has_alpha else image.convert("RGB")
    if mode in _ALPHA_MODES:
        grey = mode in ("LA", "La")
        flat = _flatten(image.convert("RGBA"))
        return flat.convert("L") if grey else flat
    return image.convert("RGB")


def _flatten(rgba: Image.Image) -> Image.Image:
    """Composite onto white: transparent regions of scans and screenshots are paper, not ink."""
    background = Image.new("RGBA", rgba.size, _WHITE_RGBA)
    background.alpha_composite(rgba)
    return background.convert("RGB")


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float pixels into 0-255 by their full scale; NaN (no data) becomes paper."""
    floats = image if image.mode == "F" else image.convert("F")
    peak = floats.getextrema()[1]  # NaN pixels are left out; all-NaN gives NaN
    assert isinstance(peak, float)
    if math.isnan(peak) or (image.mode == "F" and peak <= 1.0):
        full_scale = 1.0
    else:
        full_scale = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    factor = 255.0 / full_scale
    # +0.5: the conversion to L truncates, so this rounds (and clips to 0..255).
    grey = floats.point(lambda value: value * factor + 0.5).convert("L")
    if image.mode == "F":
        no_data = ImageMath.lambda_eval(lambda px: px["a"] != px["a"], a=floats)
        assert isinstance(no_data, Image.Image)
        grey.paste(255, mask=no_data.point(lambda value: value * 255).convert("L"))
    return grey


def describe_pixels(width: int, height: int) -> str:
    """A size as people read it in an error: "20000 x 20000 pixels (400 megapixels)"."""
    return f"{width} x {height} pixels ({width * height / 1e6:.0f} megapixels)"


def draft_size(width: int, height: int, longest_side: int) -> tuple[int, int]:
    """The smallest size a JPEG may be decoded at and still be resized down, not up."""
    scale = longest_side / max(width, height)
    return math.ceil(width * scale), math.ceil(height * scale)


__all__ = [
    "JPEG_MIME",
    "JPEG_QUALITY",
    "EncodedImage",
    "describe_pixels",
    "draft_size",
    "encode_image",
    "fit_longest_side",
    "target_size",
    "to_model_mode",
    "upright",
]
