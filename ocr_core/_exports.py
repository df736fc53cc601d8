"""Searchable PDF, hOCR and ALTO from pages and their located words.

A searchable PDF shows each page's own image and carries, invisible over it, each word of
the page's text where the word sits, so selecting and searching work in any reader. It is
written with fpdf2 (pure Python, well kept, embeds a JPEG as it is, and writes text in
render mode 3 with horizontal scaling); the text is set in a glyphless TrueType font built
here with fontTools (fpdf2's own dependency): one glyph per character used, each an em box
that is never drawn, so any script survives, and fpdf2's subset carries a ToUnicode map, so
what a reader copies is the real text. Tesseract and OCRmyPDF do the same (GlyphLessFont).

hOCR (XHTML) and ALTO v4 (XML) say the same in the formats archives and OCR tools read,
built with the standard library's ElementTree, which escapes every word; characters XML
cannot hold (controls) are dropped. A word that was not found on the page is still written
(the text must say what the service read), at a box estimated from the words around it,
inside the page (`ocr_core._placement`). No words on a page is a page with its image alone.
"""

from __future__ import annotations

import io
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._exceptions import ExportError
from ._locate import LocatedWord, PageWords
from ._placement import placed_words
from ._word_boxes import Box

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SYSTEM = "LightOnOCR console (words located by ocr_core.locate_words)"
# The glyphless font's metrics, in its units per em: every glyph half an em wide.
_EM, _ASCENT, _DESCENT, _ADVANCE = 1000, 800, -200, 500
# What cannot stand in an hOCR property's quoted file name: quotes, separators, line breaks.
_IMAGE_NAME = re.compile('[";\t\n\r]')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ExportPage:
    """One page: its own image as the archive keeps it, its size, and its located words."""

    image: bytes  # JPEG or PNG, embedded as it is
    width_pt: float  # page size in PDF points (1/72 in)
    height_pt: float
    words: PageWords  # boxes in words.width x words.height pixels, scaled to the page


def _glyphless_font(chars: set[str]) -> bytes:
    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]

    # fpdf2 puts the page-count alias "{nb}" and digits in every subset: they are glyphs too.
    codepoints = sorted({ord(c) for c in chars} | {ord(c) for c in " 0123456789{nb}"})
    names = [".notdef"] + [f"u{cp:04X}" for cp in codepoints]
    builder = FontBuilder(_EM, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({cp: f"u{cp:04X}" for cp in codepoints})
    # Each glyph an em-tall rectangle: never drawn (render mode 3), but a reader's boxes for
    # the characters (pdfium's tight boxes, a selection's highlight) span the word's line.
    pen = TTGlyphPen(None)
    pen.moveTo((0, _DESCENT))
    pen.lineTo((0, _ASCENT))
    pen.lineTo((_ADVANCE, _ASCENT))
    pen.lineTo((_ADVANCE, _DESCENT))
    pen.closePath()
    box = pen.glyph()
    builder.setupGlyf({name: box for name in names})
    builder.setupHorizontalMetrics({name: (_ADVANCE, 0) for name in names})
    builder.setupHorizontalHeader(ascent=_ASCENT, descent=_DESCENT)
    builder.setupNameTable({"familyName": "GlyphLess", "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=_ASCENT, sTypoDescender=_DESCENT, usWinAscent=_ASCENT, usWinDescent=-_DESCENT
    )
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def searchable_pdf(pages: Sequence[ExportPage], *, title: str = "") -> bytes:
    """One PDF page per page: its image over the whole page, its words invisible on top."""
    try:
        from fpdf import FPDF
        from fpdf.enums import TextMode
    except ImportError as exc:
        raise ExportError("a searchable PDF needs fpdf2: install the `exports` extra") from exc
    if not pages:
        raise ExportError("a PDF needs at least one page")
    chars = {c for page in pages for w in page.words.words for c in _clean(w.text)}
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(_clean(title))
    pdf.set_creator(SYSTEM)
    with tempfile.TemporaryDirectory(prefix="glyphless-") as scratch:
        font = Path(scratch) / "glyphless.ttf"
        font.write_bytes(_glyphless_font(chars))
        pdf.add_font("GlyphLess", fname=str(font))
        for n, page in enumerate(pages, start=1):
            pdf.add_page(format=(page.width_pt, page.height_pt))
            try:
                pdf.image(io.BytesIO(page.image), x=0, y=0, w=page.width_pt, h=page.height_pt)
            except Exception as exc:  # fpdf2 and Pillow raise many kinds for a bad image
                raise ExportError(f"page {n}: its image cannot be embedded ({exc})") from exc
            _text_layer(pdf, page, TextMode.INVISIBLE)
            if note := unlocated_note(page.words):
                # A note on the page (a viewer's comment icon): its words without a place of
                # their own are searchable but not on themselves. (No `title`: fpdf2 2.7.3,
                # the floor, takes none; the document's creator names the console.)
                pdf.text_annotation(4, 20, note, w=16, h=16, name="Comment")
        return bytes(pdf.output())


def unlocated_note(words: PageWords) -> str | None:
    """What a page says when some of its words were not found on its image, or None."""
    missing = sum(word.box is None for word in words.words)
    if not missing:
        return None
    return (
        f"{missing} of {len(words.words)} words on this page were not found on the scan: "
        "a search finds them near the words around them, not on themselves."
    )


def _text_layer(pdf: object, page: ExportPage, invisible: object) -> None:
    sx = page.width_pt / max(page.words.width, 1)
    sy = page.height_pt / max(page.words.height, 1)
    pdf.text_mode = invisible  # type: ignore[attr-defined]
    for word, (x0, y0, x1, y1) in placed_words(page.words):
        text = _clean(word.text)
        if not text:
            continue
        size = max((y1 - y0) * sy, 1.0)  # the em spans the box: ascent + descent
        natural = size * _ADVANCE / _EM * len(text)
        pdf.set_font("GlyphLess", size=size)  # type: ignore[attr-defined]
        pdf.set_stretching(max((x1 - x0) * sx / natural * 100, 1.0))  # type: ignore[attr-defined]
        baseline = y1 * sy + size * _DESCENT / _EM
        pdf.text(x0 * sx, baseline, text + " ")  # type: ignore[attr-defined]


def _bbox(box: Box) -> str:
    return "bbox " + " ".join(str(round(v)) for v in box)


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _blocks(words: PageWords) -> list[list[list[tuple[LocatedWord, Box]]]]:
    """The page's placed words as blocks of lines, in the text's order."""
    blocks: list[list[list[tuple[LocatedWord, Box]]]] = []
    last_block, last_line = None, None
    for word, box in placed_words(words):
        if word.block != last_block:
            blocks.append([])
            last_line = None
        if word.line != last_line:
            blocks[-1].append([])
        blocks[-1][-1].append((word, box))
        last_block, last_line = word.block, word.line
    return blocks


def hocr(pages: Sequence[ExportPage], *, title: str = "") -> bytes:
    """One hOCR document (XHTML), an `ocr_page` per page with its blocks, paragraphs, lines
    and words, each with its bbox in the page image's pixels (`PageWords` width x height)."""
    if not pages:
        raise ExportError("an hOCR document needs at least one page")
    html = ET.Element("html", xmlns="http://www.w3.org/1999/xhtml", lang="en")
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = _clean(title) or "OCR"
    ET.SubElement(
        head, "meta", {"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"}
    )
    ET.SubElement(head, "meta", name="ocr-system", content=SYSTEM)
    ET.SubElement(
        head,
        "meta",
        name="ocr-capabilities",
        content="ocr_page ocr_carea ocr_par ocr_line ocrx_word",
    )
    body = ET.SubElement(html, "body")
    ids = iter(range(1, 10**9))
    # The page's `image` is the document the pages were read from (`title`: a file name),
    # `ppageno` the page in it, as Tesseract writes a multi-page TIFF's pages.
    source = _IMAGE_NAME.sub("", _clean(title)).replace("\\", "/")
    image = f'image "{source}"; ' if source else ""
    for n, page in enumerate(pages, start=1):
        size = (0, 0, page.words.width, page.words.height)
        properties = f"{_bbox(size)}; {image}ppageno {n - 1}"
        element = _hocr(body, "div", "ocr_page", f"page_{n}", properties)
        for block in _blocks(page.words):
            area = _bbox(_union([box for line in block for _, box in line]))
            carea = _hocr(element, "div", "ocr_carea", f"block_{next(ids)}", area)
            par = _hocr(carea, "p", "ocr_par", f"par_{next(ids)}", area)
            for line in block:
                bbox = _bbox(_union([b for _, b in line]))
                span = _hocr(par, "span", "ocr_line", f"line_{next(ids)}", bbox)
                for word, box in line:
                    found = _hocr(span, "span", "ocrx_word", f"word_{next(ids)}", _bbox(box))
                    found.text, found.tail = _clean(word.text), " "
    document = ET.tostring(html, encoding="unicode", method="xml")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n' + document).encode()


def _hocr(parent: ET.Element, tag: str, kind: str, name: str, title: str) -> ET.Element:
    return ET.SubElement(parent, tag, {"class": kind, "id": name, "title": title})


def alto(pages: Sequence[ExportPage], *, title: str = "") -> bytes:
    """One ALTO v4 document: a `Page` per page, `TextBlock`/`TextLine`/`String` with their
    positions in the page image's pixels (MeasurementUnit pixel)."""
    if not pages:
        raise ExportError("an ALTO document needs at least one page")
    ET.register_namespace("", ALTO_NS)
    q = f"{{{ALTO_NS}}}"
    root = ET.Element(q + "alto", {f"{{{XSI_NS}}}schemaLocation": f"{ALTO_NS} {ALTO_SCHEMA}"})
    description = ET.SubElement(root, q + "Description")
    ET.SubElement(description, q + "MeasurementUnit").text = "pixel"
    source = ET.SubElement(description, q + "sourceImageInformation")
    ET.SubElement(source, q + "fileName").text = _clean(title) or "document"
    layout = ET.SubElement(root, q + "Layout")
    ids = iter(range(1, 10**9))
    for n, page in enumerate(pages, start=1):
        width, height = page.words.width, page.words.height
        element = ET.SubElement(
            layout,
            q + "Page",
            ID=f"page_{n}",
            PHYSICAL_IMG_NR=str(n),
            WIDTH=str(width),
            HEIGHT=str(height),
        )
        space = ET.SubElement(
            element, q + "PrintSpace", HPOS="0", VPOS="0", WIDTH=str(width), HEIGHT=str(height)
        )
        for block in _blocks(page.words):
            area = _union([box for line in block for _, box in line])
            text_block = ET.SubElement(
                space, q + "TextBlock", {"ID": f"block_{next(ids)}", **_pos(area)}
            )
            for line in block:
                where = _pos(_union([b for _, b in line]))
                text_line = ET.SubElement(
                    text_block, q + "TextLine", {"ID": f"line_{next(ids)}", **where}
                )
                for k, (word, box) in enumerate(line):
                    if k:
                        ET.SubElement(text_line, q + "SP")
                    attributes = {"ID": f"string_{next(ids)}", "CONTENT": _clean(word.text)}
                    ET.SubElement(text_line, q + "String", {**attributes, **_pos(box)})
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written


def _pos(box: Box) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {
        "HPOS": f"{x0:.0f}",
        "VPOS": f"{y0:.0f}",
        "WIDTH": f"{max(x1 - x0, 1):.0f}",
        "HEIGHT": f"{max(y1 - y0, 1):.0f}",
    }


__all__ = ["ExportPage", "alto", "hocr", "placed_words", "searchable_pdf", "unlocated_note"]
