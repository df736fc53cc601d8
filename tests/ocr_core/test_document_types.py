"""load_document tells what bytes are by their content, not their name, and names what it
cannot read."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from ocr_core import (
    UnsupportedDocument,
)
from ocr_core._documents import load_document
from tests.ocr_core.documents import SMALL, TEXT_LINE, PdfPage, build_pdf, image_bytes

# --- type detection ----------------------------------------------------------------------------


def test_type_is_detected_by_content_not_by_name() -> None:
    png = image_bytes(Image.new("RGB", (300, 200), "white"), "PNG")
    with load_document(png, filename="statement.pdf") as document:
        assert document.kind == "png"
        assert document.filename == "statement.pdf"
        assert document.page(0).image.size == (1540, 1027)


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("TIFF", "tiff"),
        ("WEBP", "webp"),
        ("BMP", "bmp"),
        ("GIF", "gif"),
    ],
)
def test_each_supported_image_format_becomes_one_page(fmt: str, kind: str) -> None:
    data = image_bytes(Image.new("RGB", (400, 300), "white"), fmt)
    with load_document(data, filename="upload.bin") as document:
        assert (document.kind, document.page_count) == (kind, 1)
        assert document.page(0).image.size == (1540, 1155)


def test_pdf_with_junk_before_its_header_is_still_a_pdf() -> None:
    data = b"\xef\xbb\xbf\r\n" + build_pdf([PdfPage(content=TEXT_LINE)])
    with load_document(data, settings=SMALL) as document:
        assert document.kind == "pdf"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (_zip({"notes.txt": b"hello"}), "a ZIP archive"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
            "a Word document (DOCX)",
        ),
        (b"<!DOCTYPE html><html><body>Statement</body></html>", "an HTML page"),
        (b"Dear customer,\nyour loan was approved.\n", "plain text"),
        (b'{"pages": 3}', "a JSON file"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
    ],
    ids=["zip", "docx", "html", "text", "json", "svg"],
)
def test_unsupported_content_is_named_in_the_error(data: bytes, detected: str) -> None:
    with pytest.raises(UnsupportedDocument) as caught:
        load_document(data, filename="scan.pdf")
    assert caught.value.detected == detected
    assert str(caught.value).startswith(f"'scan.pdf' is {detected}, not a type we read")


def test_random_garbage_is_unsupported_binary_data() -> None:
    garbage = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(UnsupportedDocument) as caught:
        load_document(b"\x00\x01" + garbage)
    assert caught.value.detected == "unrecognised binary data"
