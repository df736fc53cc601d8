"""load_document: bytes of any origin become lazy pages or a typed error a person can read.

Hostile and synthetic inputs are built here, in the test, from real encoders (Pillow, a
hand-written PDF): nothing binary is committed beside the shared corpus.
"""

from __future__ import annotations

import io
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
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
)
from ocr_core._documents import load_document
from tests.conftest import CORPUS
from tests.ocr_core.documents import (
    SMALL,
    TEXT_LINE,
    TOP_BAR,
    PdfPage,
    build_pdf,
    corpus_bytes,
    image_bytes,
    png_header_claiming,
)

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
