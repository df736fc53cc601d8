"""Searchable PDF, hOCR and ALTO from a digital page's own words and boxes: read back with
pypdfium2, validated against ALTO's schema, and hOCR's required properties checked."""

from __future__ import annotations

import ctypes
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import xmlschema
from PIL import Image, ImageChops, ImageStat

from ocr_core import ExportError, ExportPage, LocatedWord, PageWords, alto, hocr, searchable_pdf
from ocr_core._locate import text_lines
from ocr_core.bench.locate import CORPUS, iou, true_page

pytestmark = pytest.mark.skipif(not (CORPUS / "minimal-document.pdf").exists(), reason="corpus")
ALTO = Path(__file__).resolve().parents[1] / "data" / "alto"
XLINK = "http://www.loc.gov/standards/xlink/xlink.xsd"
UNBOXED = "€uro—łódź"  # not on the page, and no cp1252 font holds it


@pytest.fixture(scope="module")
def page() -> ExportPage:
    """minimal-document.pdf rendered as a scan, its true word boxes as the located words, and
    one more word that was not found on the page."""
    truth = true_page(CORPUS / "minimal-document.pdf", 0)
    words: list[LocatedWord] = []
    line = 0
    for word, box in truth.words:  # a word starting left of the one before starts a line
        line += bool(words) and box[0] < words[-1].box[0]  # type: ignore[index]
        words.append(LocatedWord(word, box, line, 0))
    words.append(LocatedWord(UNBOXED, None, line, 0))
    located = PageWords(truth.image.width, truth.image.height, tuple(words), ())
    buffer = io.BytesIO()
    truth.image.save(buffer, format="JPEG", quality=90)
    return ExportPage(buffer.getvalue(), 595.0, 842.0, located)


def _pdf_words(data: bytes) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each word of the first page's text layer with its box (points, y up)."""
    textpage = pdfium.PdfDocument(data)[0].get_textpage()
    words: list[tuple[str, tuple[float, float, float, float]]] = []
    chars: list[str] = []
    box: tuple[float, float, float, float] | None = None
    for i in range(textpage.count_chars()):
        char = textpage.get_text_range(i, 1)
        hyphen = char in ("\x02", "\ufffe")  # pdfium's marks for a hyphen at a line's end
        if not char.strip() or hyphen:
            if chars and box is not None:
                words.append(("".join(chars) + ("-" if hyphen else ""), box))
            chars, box = [], None
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if box is not None:
            left, bottom = min(box[0], left), min(box[1], bottom)
            right, top = max(box[2], right), max(box[3], top)
        chars.append(char)
        box = (left, bottom, right, top)
    if chars and box is not None:
        words.append(("".join(chars), box))
    return words


def test_the_text_layer_says_every_word_in_order(page: ExportPage) -> None:
    written = [word for word, _ in _pdf_words(searchable_pdf([page]))]
    assert written == [w.text for w in page.words.words]


def test_each_word_of_the_text_layer_sits_on_its_box(page: ExportPage) -> None:
    sx = page.width_pt / page.words.width
    sy = page.height_pt / page.words.height
    written = _pdf_words(searchable_pdf([page]))
    hits = 0
    for (_, (left, bottom, right, top)), word in zip(written, page.words.words, strict=True):
        if word.box is None:
            continue
        x0, y0, x1, y1 = word.box
        expected = (x0 * sx, page.height_pt - y1 * sy, x1 * sx, page.height_pt - y0 * sy)
        hits += iou((left, bottom, right, top), expected) >= 0.5
    assert hits >= 0.95 * sum(w.box is not None for w in page.words.words)


def test_characters_no_latin_font_holds_are_kept(page: ExportPage) -> None:
    text = pdfium.PdfDocument(searchable_pdf([page]))[0].get_textpage().get_text_bounded()
    assert UNBOXED in text


def test_the_page_shows_its_image_at_its_own_pixels_and_nothing_else(page: ExportPage) -> None:
    pdf = pdfium.PdfDocument(searchable_pdf([page]))
    (image,) = [o for o in pdf[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    assert tuple(image.get_px_size()) == (page.words.width, page.words.height)
    assert tuple(pdf[0].get_size()) == pytest.approx((page.width_pt, page.height_pt))
    # Drawn, the page is its image: the text layer is invisible.
    scale = page.words.width / page.width_pt
    drawn = pdf[0].render(scale=scale).to_pil().convert("L")
    original = Image.open(io.BytesIO(page.image)).convert("L").resize(drawn.size)
    difference = ImageStat.Stat(ImageChops.difference(drawn, original)).mean[0]
    assert difference < 3  # resampling noise, not text


def test_a_page_whose_image_is_not_one_is_an_export_error(page: ExportPage) -> None:
    broken = ExportPage(b"not an image", page.width_pt, page.height_pt, page.words)
    with pytest.raises(ExportError, match="page 2"):
        searchable_pdf([page, broken])


@pytest.mark.parametrize("writer", [searchable_pdf, hocr, alto])
def test_no_pages_is_an_export_error(writer: object) -> None:
    with pytest.raises(ExportError):
        writer([])  # type: ignore[operator]


def _alto_schema() -> xmlschema.XMLSchema:
    """The vendored ALTO 4.4 schema, its xlink import mapped to the vendored copy (offline)."""
    xlink = str(ALTO / "xlink.xsd")
    return xmlschema.XMLSchema(
        str(ALTO / "alto-4-4.xsd"),
        uri_mapper=lambda url: xlink if url == XLINK else url,
        allow="local",
    )


def test_alto_validates_against_the_alto_4_schema(page: ExportPage) -> None:
    document = alto([page, page], title="minimal <document> & co")
    _alto_schema().validate(document.decode())
    strings = ET.fromstring(document).iter("{http://www.loc.gov/standards/alto/ns-v4#}String")
    assert [s.get("CONTENT") for s in strings] == [w.text for w in page.words.words] * 2


def test_hocr_has_the_properties_the_hocr_spec_requires(page: ExportPage) -> None:
    root = ET.fromstring(hocr([page], title="a <title> & more"))
    ns = "{http://www.w3.org/1999/xhtml}"
    metas = {m.get("name"): m.get("content") for m in root.iter(f"{ns}meta") if m.get("name")}
    assert metas["ocr-system"] and "ocrx_word" in metas["ocr-capabilities"].split()
    elements = [e for e in root.iter() if (e.get("class") or "").startswith("ocr")]
    assert all((e.get("title") or "").startswith("bbox ") for e in elements)
    (first,) = [e for e in elements if e.get("class") == "ocr_page"]
    assert "ppageno 0" in first.get("title", "")
    words = [e.text for e in elements if e.get("class") == "ocrx_word"]
    assert words == [w.text for w in page.words.words]


def test_untrusted_words_are_escaped_and_characters_xml_cannot_hold_dropped() -> None:
    hostile = ("<script>alert(1)</script>", 'a"b&c', "nul\x00here")
    words = tuple(
        LocatedWord(w, (10.0 * i, 10.0, 10.0 * i + 8, 20.0), 0, 0) for i, w in enumerate(hostile)
    )
    buffer = io.BytesIO()
    Image.new("L", (100, 40), 255).save(buffer, format="PNG")
    page = ExportPage(buffer.getvalue(), 72.0, 28.8, PageWords(100, 40, words, ()))
    root = ET.fromstring(hocr([page]))
    found = [e.text for e in root.iter() if e.get("class") == "ocrx_word"]
    assert found == ["<script>alert(1)</script>", 'a"b&c', "nulhere"]
    strings = ET.fromstring(alto([page])).iter("{http://www.loc.gov/standards/alto/ns-v4#}String")
    assert [s.get("CONTENT") for s in strings] == found


def test_a_jpeg_page_is_embedded_as_its_very_bytes(page: ExportPage) -> None:
    pdf = pdfium.PdfDocument(searchable_pdf([page]))
    (image,) = [o for o in pdf[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    assert image.get_filters() == ["DCTDecode"]
    assert bytes(image.get_data(decode_simple=False)) == page.image


def test_a_page_of_words_none_of_them_found_says_them_all_inside_the_page(
    page: ExportPage,
) -> None:
    truth = true_page(CORPUS / "minimal-document.pdf", 0)
    words = tuple(
        LocatedWord(word, None, line, block)
        for line, (block, line_words) in enumerate(text_lines(truth.text))
        for word in line_words
    )
    unfound = ExportPage(
        page.image,
        page.width_pt,
        page.height_pt,
        PageWords(page.words.width, page.words.height, words, ()),
    )
    written = _pdf_words(searchable_pdf([unfound]))
    assert [word for word, _ in written] == [w.text for w in words]
    width, height = page.width_pt, page.height_pt
    assert all(0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height for _, (x0, y0, x1, y1) in written)


def test_a_page_without_words_is_its_image_alone_in_every_format(page: ExportPage) -> None:
    empty = ExportPage(
        page.image,
        page.width_pt,
        page.height_pt,
        PageWords(page.words.width, page.words.height, (), ()),
    )
    pdf = pdfium.PdfDocument(searchable_pdf([empty]))
    assert pdf[0].get_textpage().count_chars() == 0
    assert [o.type for o in pdf[0].get_objects()] == [pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    root = ET.fromstring(hocr([empty]))
    assert [e.get("class") for e in root.iter() if e.get("class")] == ["ocr_page"]
    _alto_schema().validate(alto([empty]).decode())


def test_hocr_pages_name_their_document_and_their_place_in_it(page: ExportPage) -> None:
    root = ET.fromstring(hocr([page, page], title='scans "q3";.tif'))
    titles = [e.get("title") for e in root.iter() if e.get("class") == "ocr_page"]
    size = f"bbox 0 0 {page.words.width} {page.words.height}"
    assert titles == [f'{size}; image "scans q3.tif"; ppageno {n}' for n in (0, 1)]


def _page_notes(data: bytes) -> list[str]:
    """The text annotations' contents of the first page (what a viewer's comment says)."""
    raw = pdfium.raw
    page = pdfium.PdfDocument(data)[0]
    notes = []
    for i in range(raw.FPDFPage_GetAnnotCount(page.raw)):
        annot = raw.FPDFPage_GetAnnot(page.raw, i)
        size = raw.FPDFAnnot_GetStringValue(annot, b"Contents", None, 0)
        buffer = ctypes.create_string_buffer(size)
        raw.FPDFAnnot_GetStringValue(
            annot, b"Contents", ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)), size
        )
        notes.append(buffer.raw[: size - 2].decode("utf-16-le"))
        raw.FPDFPage_CloseAnnot(annot)
    return notes


def test_a_page_with_words_not_found_on_the_scan_says_so(page: ExportPage) -> None:
    total = len(page.words.words)
    assert _page_notes(searchable_pdf([page])) == [
        f"1 of {total} words on this page were not found on the scan: a search finds them "
        "near the words around them, not on themselves."
    ]


def test_a_page_whose_words_were_all_found_has_no_note(page: ExportPage) -> None:
    found = tuple(w for w in page.words.words if w.box is not None)
    located = PageWords(page.words.width, page.words.height, found, ())
    whole = ExportPage(page.image, page.width_pt, page.height_pt, located)
    assert _page_notes(searchable_pdf([whole])) == []
