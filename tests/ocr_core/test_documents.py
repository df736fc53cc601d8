"""load_document: bytes of any origin become lazy pages or a typed error a person can read.

Hostile and synthetic inputs are built here, in the test, from real encoders (Pillow, a
hand-written PDF): nothing binary is committed beside the shared corpus.
"""

from __future__ import annotations

import io
import struct
import threading
import weakref
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocr_core import (
    CorruptDocument,
    DocumentSettings,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    PageLimitExceeded,
    PageRenderError,
    UnsupportedDocument,
)
from ocr_core._documents import load_document
from tests.conftest import CORPUS

SMALL = DocumentSettings(longest_side=200)
TEXT_LINE = b"BT /F1 18 Tf 72 700 Td (Quarterly statement for account holder number one) Tj ET"
TOP_BAR = b"0 0 0 rg 0 692 612 100 re f"


# --- builders ----------------------------------------------------------------------------------


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


def dark_fraction(image: Image.Image) -> float:
    return float((np.asarray(image.convert("L")) < 128).mean())


# --- the corpus --------------------------------------------------------------------------------

CORPUS_FILES = sorted(p.name for p in (CORPUS / "pdf").iterdir()) if CORPUS.is_dir() else []


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_corpus_file_ends_as_pages_or_a_typed_error(corpus: Path, name: str) -> None:
    data = corpus_bytes(corpus, f"pdf/{name}")
    try:
        document = load_document(data, filename=name)
    except EncryptedDocument:
        document = load_document(data, filename=name, password="openpassword")
    with document:
        assert document.page_count >= 1
        for page in document.pages():
            image = page.image
            assert max(image.size) == 1540
            assert image.mode in ("RGB", "L")


def test_encrypted_pdf_without_password_says_a_password_is_needed(corpus: Path) -> None:
    data = corpus_bytes(corpus, "pdf/libreoffice-writer-password.pdf")
    with pytest.raises(EncryptedDocument, match="password-protected"):
        load_document(data)


def test_encrypted_pdf_with_wrong_password_says_it_is_wrong(corpus: Path) -> None:
    data = corpus_bytes(corpus, "pdf/libreoffice-writer-password.pdf")
    with pytest.raises(EncryptedDocument, match="password given for this PDF is wrong"):
        load_document(data, password="not-the-password")


def test_encrypted_pdf_opens_with_its_password(corpus: Path) -> None:
    data = corpus_bytes(corpus, "pdf/libreoffice-writer-password.pdf")
    with load_document(data, password="openpassword") as document:
        assert document.page(0).image.size == (1089, 1540)


def test_multi_page_pdf_keeps_page_count_and_order(corpus: Path) -> None:
    with load_document(corpus_bytes(corpus, "pdf/pdflatex-4-pages.pdf")) as document:
        pages = list(document.pages())
        assert document.page_count == 4
        assert [p.index for p in pages] == [0, 1, 2, 3]
        assert pages[0].text_layer.startswith("Hello, here is some text without a meaning")
        assert pages[1].text_layer.startswith("information. Really?")


def test_generated_pages_come_out_in_file_order() -> None:
    widths = [300, 500, 700, 400]
    data = build_pdf([PdfPage(width=w, height=1000) for w in widths])
    with load_document(data, settings=SMALL) as document:
        assert [p.image.width for p in document.pages()] == [60, 100, 140, 80]


def test_rotated_corpus_pages_come_out_as_displayed(corpus: Path) -> None:
    with load_document(corpus_bytes(corpus, "pdf/habibi-rotated.pdf")) as document:
        shapes = [
            "landscape" if p.image.width > p.image.height else "portrait" for p in document.pages()
        ]
    # /Rotate 90, 180, 270, 0 on an A4 portrait page.
    assert shapes == ["landscape", "portrait", "landscape", "portrait"]


def test_page_rotation_turns_the_content_clockwise_as_viewers_show_it() -> None:
    data = build_pdf([PdfPage(content=TOP_BAR, rotate=90)])
    with load_document(data, settings=SMALL) as document:
        image = np.asarray(document.page(0).image.convert("L"))
    height, width = image.shape
    assert width > height
    # The bar along the top edge of the unrotated page is on the right once turned 90° clockwise.
    assert image[:, -5:].mean() < 64
    assert image[:, :5].mean() > 192


def test_crop_box_sets_the_visible_area() -> None:
    data = build_pdf([PdfPage(content=TOP_BAR, crop=(0, 0, 306, 792))])
    with load_document(data, settings=SMALL) as document:
        image = document.page(0).image
    assert image.height == 200
    assert image.width == pytest.approx(200 * 306 / 792, abs=1)


@pytest.mark.parametrize(
    "name", ["cmyk-image.pdf", "imagemagick-CCITTFaxDecode.pdf", "imagemagick-lzw.pdf"]
)
def test_cmyk_ccitt_and_lzw_images_render_with_content(corpus: Path, name: str) -> None:
    with load_document(corpus_bytes(corpus, f"pdf/{name}")) as document:
        image = document.page(0).image
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10, "the page rendered as a flat colour"


# --- text layers -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pdflatex-4-pages.pdf", "minimal-document.pdf"])
def test_digital_corpus_pdfs_have_a_text_layer(corpus: Path, name: str) -> None:
    with load_document(corpus_bytes(corpus, f"pdf/{name}")) as document:
        for page in document.pages():
            assert page.has_text_layer
            assert "Lorem" in page.text_layer or "text" in page.text_layer


@pytest.mark.parametrize("name", ["imagemagick-CCITTFaxDecode.pdf", "imagemagick-lzw.pdf"])
def test_scanned_corpus_pdfs_have_no_text_layer(corpus: Path, name: str) -> None:
    with load_document(corpus_bytes(corpus, f"pdf/{name}")) as document:
        page = document.page(0)
        assert page.has_text_layer is False
        assert page.text_layer is None


def test_a_page_number_alone_is_not_a_usable_text_layer() -> None:
    data = build_pdf(
        [PdfPage(content=TEXT_LINE), PdfPage(content=b"BT /F1 12 Tf 300 40 Td (12) Tj ET")]
    )
    with load_document(data, settings=SMALL) as document:
        digital, numbered_scan = document.pages()
        assert digital.text_layer == "Quarterly statement for account holder number one"
        assert numbered_scan.text_layer is None


def test_images_have_no_text_layer() -> None:
    data = image_bytes(Image.new("L", (300, 200), 255), "PNG")
    with load_document(data) as document:
        assert document.page(0).text_layer is None


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


# --- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\x00" * 512, b"  \r\n"], ids=["zero", "nul", "blank"])
def test_empty_input_is_an_empty_document(data: bytes) -> None:
    with pytest.raises(EmptyDocument):
        load_document(data)


def test_truncated_pdf_is_corrupt(corpus: Path) -> None:
    data = corpus_bytes(corpus, "pdf/pdflatex-4-pages.pdf")
    with pytest.raises(CorruptDocument, match="damaged or truncated"):
        load_document(data[: len(data) // 2])


def test_truncated_png_is_corrupt() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    data = image_bytes(Image.fromarray(noise), "PNG")
    with pytest.raises(CorruptDocument, match="PNG image is damaged or truncated"):
        load_document(data[: len(data) * 2 // 3])


def test_more_pages_than_the_argument_allows_is_refused() -> None:
    data = build_pdf([PdfPage()] * 5)
    with pytest.raises(PageLimitExceeded) as caught:
        load_document(data, max_pages=3)
    assert (caught.value.page_count, caught.value.limit) == (5, 3)
    assert "5 pages, more than the limit of 3" in str(caught.value)


def test_more_pages_than_the_settings_allow_is_refused() -> None:
    data = build_pdf([PdfPage()] * 3)
    with pytest.raises(PageLimitExceeded):
        load_document(data, settings=DocumentSettings(max_pages=2))


def test_a_png_header_claiming_ten_gigapixels_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="has 10000 megapixels, more than the limit of 179"):
        load_document(png_header_claiming(100_000, 100_000))


def test_an_image_over_a_lowered_pixel_limit_is_too_large() -> None:
    data = image_bytes(Image.new("L", (1000, 1000), 255), "PNG")
    settings = DocumentSettings(max_image_pixels=500_000)
    with pytest.raises(ImageTooLarge, match=r"1000 x 1000 pixels \(1 megapixels\)"):
        load_document(data, settings=settings)


def test_a_huge_pdf_page_fails_alone() -> None:
    data = build_pdf([PdfPage(content=TEXT_LINE), PdfPage(width=14_400, height=20_000)])
    with load_document(data, settings=SMALL) as document:
        good, huge = document.pages()
        assert good.image.size == (155, 200)
        with pytest.raises(ImageTooLarge) as caught:
            _ = huge.image
    assert isinstance(caught.value, PageRenderError)
    assert caught.value.page_index == 1
    assert str(caught.value).startswith("page 2: the page is 200 x 278 in")


def test_a_pdf_image_bomb_fails_its_page_before_decoding() -> None:
    data = build_pdf([PdfPage(image=(32, 32)), PdfPage(image=(30_000, 30_000)), PdfPage()])
    with load_document(data, settings=SMALL) as document:
        fine, bomb, blank = document.pages()
        assert fine.image.getpixel((50, 100)) == (128, 128, 128)
        with pytest.raises(ImageTooLarge, match="an image of 30000 x 30000 pixels"):
            _ = bomb.image
        assert blank.image.getpixel((50, 100)) == (255, 255, 255)


def _tiff_with_a_damaged_second_frame() -> bytes:
    frames = [Image.new("L", (300, 400), shade) for shade in (40, 120, 200)]
    data = bytearray(
        image_bytes(
            frames[0],
            "TIFF",
            save_all=True,
            append_images=frames[1:],
            compression="tiff_adobe_deflate",
        )
    )
    with Image.open(io.BytesIO(bytes(data))) as tiff:
        tiff.seek(1)
        offset, length = tiff.tag_v2[273][0], tiff.tag_v2[279][0]
    data[offset : offset + length] = b"\xff" * length
    return bytes(data)


def test_one_damaged_frame_fails_that_page_only() -> None:
    with load_document(_tiff_with_a_damaged_second_frame(), settings=SMALL) as document:
        first, second, third = document.pages()
        assert first.image.getpixel((10, 10)) == 40
        with pytest.raises(PageRenderError) as caught:
            _ = second.image
        assert third.image.getpixel((10, 10)) == 200
    assert caught.value.page_index == 1
    assert "damaged or truncated" in str(caught.value)


# --- images ------------------------------------------------------------------------------------


def test_every_tiff_frame_is_a_page_in_order() -> None:
    frames = [Image.new("RGB", (w, 400), "white") for w in (100, 200, 400)]
    data = image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    with load_document(data, settings=SMALL) as document:
        assert document.page_count == 3
        assert [p.image.size for p in document.pages()] == [(50, 200), (100, 200), (200, 200)]


def test_an_animated_gif_is_one_page_not_a_paged_document() -> None:
    frames = [Image.new("L", (100, 50), shade) for shade in (0, 128, 255)]
    data = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with load_document(data, settings=SMALL) as document:
        assert document.page_count == 1
        assert document.page(0).image.convert("L").getpixel((5, 5)) == 0


def test_exif_orientation_turns_the_photo_upright() -> None:
    stored = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(stored).rectangle((0, 0, 199, 199), fill="black")  # left half black
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: turn 90° clockwise to display
    data = image_bytes(stored, "JPEG", exif=exif)
    with load_document(data, settings=SMALL) as document:
        image = np.asarray(document.page(0).image.convert("L"))
    assert image.shape == (200, 100)  # portrait, as displayed
    assert image[:90].mean() < 40  # the stored left half is now the top half
    assert image[110:].mean() > 215


def test_small_images_are_enlarged_to_the_longest_side() -> None:
    data = image_bytes(Image.new("L", (64, 48), 255), "PNG")
    with load_document(data) as document:
        assert document.page(0).image.size == (1540, 1155)


def test_large_jpeg_is_reduced_to_the_longest_side() -> None:
    data = image_bytes(Image.new("RGB", (4000, 3000), "white"), "JPEG")
    with load_document(data) as document:
        assert document.page(0).image.size == (1540, 1155)


def test_longest_side_follows_the_settings(corpus: Path) -> None:
    settings = DocumentSettings(longest_side=1000)
    with load_document(corpus_bytes(corpus, "scans/phototest.tif"), settings=settings) as document:
        assert document.page(0).image.size == (1000, 750)


# --- laziness, threads, lifetime ---------------------------------------------------------------


def test_iterating_a_300_page_pdf_keeps_one_page_image_alive() -> None:
    data = build_pdf([PdfPage(content=TEXT_LINE)] * 300)
    alive: list[weakref.ref[Image.Image]] = []
    most_alive = 0
    with load_document(data, settings=SMALL) as document:
        for page in document.pages():
            alive.append(weakref.ref(page.image))
            most_alive = max(most_alive, sum(ref() is not None for ref in alive))
    assert len(alive) == 300
    assert most_alive <= 2


def test_pages_render_only_when_asked() -> None:
    data = build_pdf([PdfPage(content=TEXT_LINE)] * 3)
    with load_document(data, settings=SMALL) as document:
        pages = list(document.pages())
        assert [repr(p) for p in pages] == [f"Page(index={i}, rendered=False)" for i in range(3)]


def test_pages_of_one_pdf_render_concurrently_from_threads(corpus: Path) -> None:
    data = corpus_bytes(corpus, "pdf/pdflatex-4-pages.pdf")
    with load_document(data) as document:
        expected = [p.image.tobytes() for p in document.pages()]

        def render(index: int) -> tuple[bytes, str | None]:
            page = document.page(index)
            return page.image.tobytes(), page.text_layer

        barrier = threading.Barrier(8)

        def contended(index: int) -> tuple[bytes, str | None]:
            barrier.wait()
            return render(index)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(contended, [i % 4 for i in range(8)]))
    assert [image for image, _ in results] == [expected[i % 4] for i in range(8)]
    assert all(text for _, text in results)


def test_reading_a_page_after_close_is_a_page_error() -> None:
    document = load_document(build_pdf([PdfPage()]), settings=SMALL)
    page = document.page(0)
    document.close()
    assert document.closed
    with pytest.raises(PageRenderError, match="closed"):
        _ = page.image


def test_encode_carries_the_page_as_jpeg(corpus: Path) -> None:
    with load_document(corpus_bytes(corpus, "scans/phototest.tif")) as document:
        encoded = document.page(0).encode()
    assert encoded.mime_type == "image/jpeg"
    assert (encoded.width, encoded.height) == (1540, 1155)
    assert encoded.data_uri().startswith("data:image/jpeg;base64,/9j/")
    assert Image.open(io.BytesIO(encoded.data)).size == (1540, 1155)


def test_a_pdf_header_without_a_body_is_corrupt() -> None:
    with pytest.raises(CorruptDocument):
        load_document(b"%PDF-1.7\nthis is not really a pdf")
