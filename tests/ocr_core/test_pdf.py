"""render_pdf_page: the plain bytes-in, image-out boundary a sandboxed worker will take over."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_core import DocumentSettings, EncryptedDocument, PageTooLarge, load_document
from ocr_core._pdf import render_pdf_page
from tests.ocr_core.documents import PdfPage, build_pdf
from tests.ocr_core.hostile import unreadable_metadata

SMALL = DocumentSettings(longest_side=200)


def test_a_page_renders_from_the_bytes_alone(corpus: Path) -> None:
    data = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    image = render_pdf_page(data, 3, password=None, limits=SMALL)
    assert max(image.size) == 200 and image.mode == "RGB"


def test_limits_refuse_a_huge_page_before_rendering() -> None:
    data = build_pdf([PdfPage(width=14_400, height=20_000)])
    with pytest.raises(PageTooLarge, match="200 x 278 in"):
        render_pdf_page(data, 0, password=None, limits=SMALL)


def test_an_image_bomb_is_refused_from_its_header() -> None:
    data = build_pdf([PdfPage(image=(30_000, 30_000))])
    with pytest.raises(PageTooLarge, match="900 megapixels"):
        render_pdf_page(data, 0, password=None, limits=SMALL)


def test_an_encrypted_pdf_needs_its_password(corpus: Path) -> None:
    data = (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes()
    with pytest.raises(EncryptedDocument):
        render_pdf_page(data, 0, password=None, limits=SMALL)
    image = render_pdf_page(data, 0, password="openpassword", limits=SMALL)
    assert max(image.size) == 200


def test_a_pdf_with_unreadable_metadata_and_a_wrong_xref_is_read_like_other_readers_do() -> None:
    with load_document(unreadable_metadata(pages=4), settings=SMALL) as document:
        assert document.page_count == 4
        texts = [page.text_layer for page in document.pages()]
        image = document.page(3).image
    assert texts == [f"Page {n} of the loan file" for n in range(1, 5)]
    assert max(image.size) == 200
