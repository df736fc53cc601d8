"""Hostile documents, built in the test so nothing large sits on disk.

Each builder returns the bytes of a small file that costs a naive reader far more than its
size: the shapes an attacker sending documents to the loan backend would try.
"""

from __future__ import annotations

import io
import struct
import zlib


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF whose object N is `objects[N - 1]`; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_stream(dictionary: bytes, data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    header = b"<< " + dictionary + b" /Filter /FlateDecode /Length %d >>" % len(packed)
    return header + b"\nstream\n" + packed + b"\nendstream"


def _one_page(resources: bytes, content: bytes, extra: list[bytes]) -> bytes:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
    page += b"/Resources << " + resources + b" >> /Contents 4 0 R >>"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            pdf_stream(b"", content),
            *extra,
        ]
    )


def smask_bomb(images: int = 4, side: int = 40000) -> bytes:
    """1x1 images whose soft mask claims side x side pixels (H1: 2 KB -> 6 GB in pdfium)."""
    names = b" ".join(b"/Im%d %d 0 R" % (i, 6 + i) for i in range(images))
    content = b"".join(b"q 100 0 0 100 %d 0 cm /Im%d Do Q\n" % (i * 10, i) for i in range(images))
    mask = pdf_stream(
        b"/Type /XObject /Subtype /Image /Width %d /Height %d " % (side, side)
        + b"/ColorSpace /DeviceGray /BitsPerComponent 8",
        b"\x00" * 1000,
    )
    image = pdf_stream(
        b"/Type /XObject /Subtype /Image /Width 1 /Height 1 "
        b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /SMask 5 0 R",
        b"\x00\x00\x00",
    )
    return _one_page(b"/XObject << " + names + b" >>", content, [mask] + [image] * images)


def operator_bomb(count: int = 9_000_000) -> bytes:
    """One content stream of `count` filled rectangles (H2: 228 KB -> a minute, 3 GB)."""
    return _one_page(b"", b"0 0 1 1 re f\n" * count, [])


def operator_bomb_pages(pages: int = 1000, count: int = 3_000_000) -> bytes:
    """`pages` pages sharing one content stream of `count` rectangles (issue 20: 193 KB, and
    each page costs the sandbox its whole time limit)."""
    kids = b" ".join(b"%d 0 R" % (4 + n) for n in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            pdf_stream(b"", b"0 0 1 1 re f\n" * count),
            *[page] * pages,
        ]
    )


def float_tiff(side: int = 13000) -> bytes:
    """A 32-bit float grayscale TIFF of side x side zeros, deflated (M1: 1 MB -> 6.5 GB)."""
    row = zlib.compress(b"\x00" * (side * 4 * 64), 9)
    rows_per_strip = 64
    strips = (side + rows_per_strip - 1) // rows_per_strip
    last_rows = side - rows_per_strip * (strips - 1)
    last = zlib.compress(b"\x00" * (side * 4 * last_rows), 9)
    data = [row] * (strips - 1) + [last]
    entries = [
        (256, 4, 1, side),  # ImageWidth
        (257, 4, 1, side),  # ImageLength
        (258, 3, 1, 32),  # BitsPerSample
        (259, 3, 1, 8),  # Compression: deflate
        (262, 3, 1, 1),  # Photometric: BlackIsZero
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, rows_per_strip),  # RowsPerStrip
        (339, 3, 1, 3),  # SampleFormat: IEEE float
    ]
    header_size = 8
    ifd_size = 2 + 12 * (len(entries) + 2) + 4
    offsets_at = header_size + ifd_size
    counts_at = offsets_at + 4 * strips
    data_at = counts_at + 4 * strips
    strip_offsets, position = [], data_at
    for strip in data:
        strip_offsets.append(position)
        position += len(strip)
    entries += [(273, 4, strips, offsets_at), (279, 4, strips, counts_at)]
    entries.sort()
    out = io.BytesIO()
    out.write(b"II*\x00" + struct.pack("<I", header_size))
    out.write(struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if kind == 3 and count == 1:
            out.write(struct.pack("<HHIHH", tag, kind, count, value, 0))
        else:
            out.write(struct.pack("<HHII", tag, kind, count, value))
    out.write(struct.pack("<I", 0))
    out.write(struct.pack(f"<{strips}I", *strip_offsets))
    out.write(struct.pack(f"<{strips}I", *(len(s) for s in data)))
    for strip in data:
        out.write(strip)
    return out.getvalue()


def unreadable_metadata(pages: int = 4) -> bytes:
    """A PDF other readers open although its metadata is unreadable and its xref is wrong.

    The catalog's XMP stream is not deflate data, the trailer's /Info names an object that
    does not exist, its /ID strings are not hex, and every xref offset (and startxref) is
    off, so a reader must rebuild the cross-reference table from the objects themselves.
    """
    kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 3 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length 42 >>\nstream\n"
        + b"\x00garbage, not deflate\xff" * 2
        + b"\nendstream",
        b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>",
    ]
    for index in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 4 0 R "
            b"/Contents %d 0 R >>" % (6 + 2 * index)
        )
        objects.append(
            pdf_stream(
                b"", b"BT /F1 24 Tf 72 700 Td (Page %d of the loan file) Tj ET" % (index + 1)
            )
        )
    out = bytearray(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for number in range(len(objects)):
        out += b"%010d 00000 n \n" % (7 + number * 13)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 99 0 R /ID [<00> (\xff\xfe)] >>\n" % (
        len(objects) + 1
    )
    out += b"startxref\n%d\n%%%%EOF\n" % (xref + 5)
    return bytes(out)
