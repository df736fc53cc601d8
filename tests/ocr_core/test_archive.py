"""Pages as the archive keeps them: the scan's own pixels and size on paper, bounded."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image

from ocr_core import CorruptDocument, PageTooLarge, ResourceLimitExceeded
from ocr_core._archive import ARCHIVE_DPI, archive_page
from tests.ocr_core.hostile import float_tiff


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_a_jpeg_page_is_kept_as_its_own_bytes() -> None:
    data = _encoded(Image.new("RGB", (1200, 1600), "white"), "JPEG", dpi=(200, 200))
    page = archive_page(data, 0)
    assert page.image == data and page.mime == "image/jpeg"
    assert (page.width_pt, page.height_pt) == (1200 / 200 * 72, 1600 / 200 * 72)


def test_a_bilevel_tiff_page_stays_bilevel_at_its_own_pixels() -> None:
    fax = [Image.new("1", (1728, 2200), 1), Image.new("1", (1728, 2300), 0)]
    data = _encoded(fax[0], "TIFF", save_all=True, append_images=fax[1:], compression="group4")
    page = archive_page(data, 1)
    assert page.mime == "image/png" and (page.width_px, page.height_px) == (1728, 2300)
    with Image.open(io.BytesIO(page.image)) as kept:
        assert kept.mode == "1" and kept.size == (1728, 2300)


def test_an_image_stating_an_implausible_resolution_is_sized_at_300_dpi() -> None:
    data = _encoded(Image.new("L", (2550, 3300), 255), "PNG", dpi=(1, 1))
    page = archive_page(data, 0)
    assert (page.width_pt, page.height_pt) == pytest.approx((612.0, 792.0))


def test_a_pdf_page_is_rendered_at_300_dpi_at_its_own_size() -> None:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(612, 792)
    buffer = io.BytesIO()
    pdf.save(buffer)
    page = archive_page(buffer.getvalue(), 0)
    assert (page.width_pt, page.height_pt) == (612, 792)
    assert page.width_px == pytest.approx(612 * ARCHIVE_DPI / 72, abs=1)
    assert page.height_px == pytest.approx(792 * ARCHIVE_DPI / 72, abs=1)


def test_a_page_no_scan_has_is_refused_before_it_is_decoded() -> None:
    big = _encoded(Image.new("1", (20000, 20000)), "TIFF", compression="group4")  # ~60 KB
    with pytest.raises(PageTooLarge):
        archive_page(big, 0)


def test_a_page_whose_decoding_outgrows_the_memory_limit_is_stopped() -> None:
    with pytest.raises(ResourceLimitExceeded):
        archive_page(float_tiff(), 0)


def test_a_damaged_image_is_a_corrupt_document() -> None:
    data = _encoded(Image.new("RGB", (600, 800), "white"), "PNG")
    with pytest.raises(CorruptDocument):
        archive_page(data[: len(data) // 3], 0)
