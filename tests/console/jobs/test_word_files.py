"""A scanned job read by the embedded engine, exported as searchable PDF, hOCR and ALTO: the
text layer sits on the words' ink and says what the job read."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from console.jobs import JobRunner, JobStore, NewDocument
from console.jobs._word_files import word_file
from ocr_core import engine_available
from tests.console.jobs.conftest import wait_until
from tests.fakes.local_server import LocalServer, start_local_server

ROOT = Path(__file__).resolve().parents[3]
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
SCAN = ROOT.parent / "shared" / "corpus" / "scans" / "phototest.tif"
pytestmark = [
    pytest.mark.skipif(not SCAN.exists(), reason="corpus"),
    pytest.mark.skipif(not engine_available(), reason="the local extra"),
]


@pytest.fixture(scope="module")
def engine_server() -> Iterator[LocalServer]:
    with start_local_server("--engine", "rapidocr", startup_timeout_s=180) as running:
        yield running


@pytest.fixture
def scanned_job(
    jobs: JobStore, runners: Callable[..., JobRunner], engine_server: LocalServer
) -> int:
    job_id = jobs.create_job(
        [NewDocument(SCAN.name, SCAN.read_bytes()), NewDocument("junk.pdf", b"%PDF-1.4 junk")],
        actor="qa",
        service_url="",
        locate_words=True,
    )
    runners(engine_server.base_url, max_attempts=3)
    assert wait_until(lambda: jobs.job(job_id).words_ready, timeout_s=240)
    assert jobs.job(job_id).pages_located == 1
    return job_id


def _pdf_words(data: bytes) -> tuple[str, list[tuple[str, tuple[float, float, float, float]]]]:
    """The first page's text and each word's box (PDF points, y up) as pdfium reads them."""
    pdf = pdfium.PdfDocument(data)
    textpage = pdf[0].get_textpage()
    words, chars, box = [], [], None
    for i in range(textpage.count_chars()):
        char = textpage.get_text_range(i, 1)
        if not char.strip():
            if chars:
                words.append(("".join(chars), box))
            chars, box = [], None
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        chars.append(char)
        if box is not None:
            left, bottom = min(box[0], left), min(box[1], bottom)
            right, top = max(box[2], right), max(box[3], top)
        box = (left, bottom, right, top)
    if chars:
        words.append(("".join(chars), box))
    return textpage.get_text_bounded(), words


def _page_image(data: bytes) -> tuple[Image.Image, float, float]:
    pdf = pdfium.PdfDocument(data)
    width, height = pdf[0].get_size()
    (image,) = [o for o in pdf[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    return image.get_bitmap().to_pil().convert("L"), width, height


def test_a_searchable_pdfs_words_sit_on_their_ink_and_say_what_the_job_read(
    jobs: JobStore, scanned_job: int
) -> None:
    (document, _junk) = jobs.documents(scanned_job)
    data = word_file(jobs, scanned_job, document.id, "pdf")
    text, words = _pdf_words(data)
    read = jobs.pages(scanned_job, document.id)[0].result.text
    assert text.split() == read.split()
    image, width_pt, height_pt = _page_image(data)
    assert image.size == Image.open(SCAN).size  # the scan's own pixels
    sx, sy = image.width / width_pt, image.height / height_pt
    on_ink = 0
    for _word, (left, bottom, right, top) in words:
        region = image.crop(
            (
                round(left * sx),
                round((height_pt - top) * sy),
                round(right * sx),
                round((height_pt - bottom) * sy),
            )
        )
        on_ink += region.getextrema()[0] < 128  # some dark pixel under the word
    assert on_ink >= 0.95 * len(words) and len(words) >= 40


def test_export_writes_the_formats_asked_and_the_index_names_them(
    jobs: JobStore, scanned_job: int, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.jobs",
            "export",
            str(scanned_job),
            "--out",
            str(out),
            "--format",
            "pdf,hocr,alto,txt",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LIGHTONOCR_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "batch.json",
        "phototest.alto.xml",
        "phototest.hocr",
        "phototest.pdf",
        "phototest.txt",
    ]
    index = json.loads((out / "batch.json").read_text())
    assert index["documents"][0]["files"] == [
        "phototest.txt",
        "phototest.pdf",
        "phototest.hocr",
        "phototest.alto.xml",
    ]
    assert pdfium.PdfDocument(io.BytesIO((out / "phototest.pdf").read_bytes()))[0]
    # hOCR and ALTO describe the scan's own pixels, not the rendering the service read.
    width, height = Image.open(SCAN).size
    hocr_page = ET.fromstring((out / "phototest.hocr").read_bytes()).find(".//*[@class='ocr_page']")
    assert hocr_page is not None and f"bbox 0 0 {width} {height};" in hocr_page.get("title", "")
    alto_page = ET.fromstring((out / "phototest.alto.xml").read_bytes()).find(f".//{ALTO}Page")
    assert alto_page is not None
    assert (alto_page.get("WIDTH"), alto_page.get("HEIGHT")) == (str(width), str(height))


def test_an_unknown_export_format_is_refused_with_the_ones_there_are(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.jobs",
            "export",
            "1",
            "--out",
            str(tmp_path),
            "--format",
            "pdf,docx",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LIGHTONOCR_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown format docx" in done.stderr and "alto" in done.stderr
