"""PDFs, images and encodings built in the tests from real encoders (Pillow, a hand-written
PDF): nothing binary is committed beside the shared corpus."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ocr_core import (
    DocumentSettings,
)

SMALL = DocumentSettings(longest_side=200)
TEXT_LINE = b"BT /F1 18 Tf 72 700 Td (Quarterly statement for account holder number one) Tj ET"
TOP_BAR = b"0 0 0 rg 0 692 612 100 re f"


@dataclass(frozen=True)
class PdfPage:
    width: float = 612
    height: float = 792
    content: bytes = b""
    rotate: int = 0
    crop: tuple[float, float, float, float] | None = None
    # An 8-bit grey image XObject of this many pixels drawn over the page; its stream is tiny.
    image: tuple[int, int] | None = None


def build_pdf(pages: list[PdfPage]) -> bytes:
    """A minimal valid PDF (correct xref) with Helvetica as /F1 on every page."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once the page ids are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for page in pages:
        page_id, content_id = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_id} 0 R".encode())
        extra = f" /Rotate {page.rotate}".encode() if page.rotate else b""
        if page.crop:
            extra += b" /CropBox [%g %g %g %g]" % page.crop
        content, xobjects = page.content, b""
        if page.image:
            xobjects = b" /XObject << /Im1 %d 0 R >>" % (content_id + 1)
            content += b"\nq %g 0 0 %g 0 0 cm /Im1 Do Q" % (page.width, page.height)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g]" % (page.width, page.height)
            + b" /Resources << /Font << /F1 3 0 R >>%s >> /Contents %d 0 R%s >>"
            % (xobjects, content_id, extra)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        if page.image:
            pixels = zlib.compress(b"\x80" * 1024)
            objects.append(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d" % page.image
                + b" /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                + b" /Length %d >>\nstream\n%s\nendstream" % (len(pixels), pixels)
            )
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height but carries (almost) no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def corpus_bytes(corpus: Path, relative: str) -> bytes:
    return (corpus / relative).read_bytes()
