"""Page images reach the model as 8-bit L or RGB on white, whatever mode the file used."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ocr_core._documents import load_document
from ocr_core._imaging import encode_image, target_size, to_model_mode


def _saved(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_transparent_png_is_composited_onto_white() -> None:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 20, 20))  # opaque black ink on the left
    with load_document(_saved(image, "PNG")) as document:
        page = document.page(0).image
    assert page.mode == "RGB"
    assert page.getpixel((10, 10)) == (0, 0, 0)
    assert page.getpixel((page.width - 10, 10)) == (255, 255, 255)


def test_grey_with_alpha_stays_grey_on_white() -> None:
    image = Image.new("LA", (10, 10), (0, 0))
    assert to_model_mode(image).mode == "L"
    assert to_model_mode(image).getpixel((5, 5)) == 255


def test_palette_with_transparency_is_composited_onto_white() -> None:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.info["transparency"] = 1
    converted = to_model_mode(image)
    assert converted.mode == "RGB"
    assert converted.getpixel((5, 5)) == (255, 255, 255)


def test_palette_without_transparency_keeps_its_colours() -> None:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 200, 30, 10])
    assert to_model_mode(image).getpixel((5, 5)) == (200, 30, 10)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    mid_grey = Image.fromarray(np.full((20, 20), 32768, dtype=np.uint16))
    with load_document(_saved(mid_grey, "PNG")) as document:
        page = document.page(0).image
    assert page.mode == "L"
    assert page.getpixel((5, 5)) == 128


def test_one_bit_fax_becomes_antialiased_grey() -> None:
    image = Image.new("1", (64, 64), 1)
    image.paste(0, (0, 0, 32, 64))
    with load_document(_saved(image, "TIFF")) as document:
        page = document.page(0).image
    assert page.mode == "L"
    # The edge between ink and paper has intermediate greys, which 1-bit resizing never makes.
    assert len(set(np.asarray(page)[700].tolist())) > 2


def test_cmyk_jpeg_becomes_rgb() -> None:
    image = Image.new("CMYK", (30, 30), (0, 255, 255, 0))  # pure red ink
    with load_document(_saved(image, "JPEG")) as document:
        page = document.page(0).image
    assert page.mode == "RGB"
    red, green, blue = page.getpixel((20, 20))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize(
    ("size", "expected"),
    [((640, 480), (1540, 1155)), ((480, 640), (1155, 1540)), ((5000, 1), (1540, 1))],
)
def test_target_size_keeps_the_aspect_ratio(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert target_size(*size, 1540) == expected


def test_encoding_is_lossy_but_faithful_to_text_pixels() -> None:
    noise = np.random.default_rng(1).integers(0, 2, (200, 300), dtype=np.uint8) * 255
    image = Image.fromarray(noise.astype(np.uint8)).resize((600, 400), Image.Resampling.NEAREST)
    encoded = encode_image(image)
    decoded = np.asarray(Image.open(io.BytesIO(encoded.data)), dtype=np.int16)
    assert (encoded.width, encoded.height, encoded.mime_type) == (600, 400, "image/jpeg")
    # Every pixel stays on the right side of the ink/paper threshold.
    assert ((decoded > 127) == (noise.repeat(2, 0).repeat(2, 1) > 127)).all()


def test_encoded_image_repr_leaves_out_the_bytes() -> None:
    encoded = encode_image(Image.new("L", (8, 8), 255))
    assert "data=" not in repr(encoded)
