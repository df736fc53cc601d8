"""The preparation bench compares like with like, and its CER helper measures what it says."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from ocr_core._documents import load_document
from ocr_core.bench._prep import PATHS, _naive_images, corpus_files, time_paths
from tests.ocr_core.documents import TEXT_LINE, PdfPage, build_pdf


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    (tmp_path / "pdf").mkdir()
    (tmp_path / "scans").mkdir()
    (tmp_path / "pdf" / "three.pdf").write_bytes(
        build_pdf([PdfPage(content=TEXT_LINE), PdfPage(width=842, height=595), PdfPage()])
    )
    buffer = io.BytesIO()
    Image.new("1", (320, 240), 1).save(buffer, "TIFF")
    (tmp_path / "scans" / "page.tif").write_bytes(buffer.getvalue())
    (tmp_path / "scans" / "page.txt").write_text("ground truth is not an input")
    return tmp_path


def test_corpus_files_are_the_documents_not_the_ground_truth(tiny_corpus: Path) -> None:
    assert [p.name for p in corpus_files(tiny_corpus)] == ["three.pdf", "page.tif"]


def test_every_path_prepares_every_page(tiny_corpus: Path) -> None:
    for file in corpus_files(tiny_corpus):
        data = file.read_bytes()
        counts = {name: len(path(data, None).page_bytes) for name, path in PATHS.items()}
        assert set(counts.values()) == {3 if file.suffix == ".pdf" else 1}, counts


def test_naive_at_1540_encodes_the_same_pixels_ours_sends(tiny_corpus: Path) -> None:
    for file in corpus_files(tiny_corpus):
        data = file.read_bytes()
        with load_document(data) as document:
            ours = [page.image.size for page in document.pages()]
        assert [image.size for image in _naive_images(data, None, fit=True)] == ours


def test_timings_cover_every_path_and_file(tiny_corpus: Path) -> None:
    best, pages = time_paths(corpus_files(tiny_corpus), repeat=1)
    assert pages == {"three.pdf": 3, "page.tif": 1}
    assert {name: sorted(files) for name, files in best.items()} == {
        name: ["page.tif", "three.pdf"] for name in PATHS
    }
    assert all(seconds > 0 for files in best.values() for seconds in files.values())
