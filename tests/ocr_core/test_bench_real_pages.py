"""Real scans for the benches: a checkout's image and hOCR truth become a scored case."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ocr_core.bench._real_pages import REAL_GROUP, RealPagesError, hocr_text, real_cases

HOCR = b"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><body><div class="ocr_page">
<span class="ocr_line" title="bbox 0 0 10 10"><span class="ocrx_word">First</span>
 <span class="ocrx_word">line</span></span>
<span class="ocr_caption"><span class="ocrx_word">A</span> <span class="ocrx_word">&amp;
caption</span></span>
<span class="ocr_line"><span class="ocrx_word"> </span></span>
</div></body></html>"""


def checkout(root: Path) -> Path:
    (root / "img").mkdir()
    (root / "ground_truth").mkdir()
    Image.new("RGBA", (40, 30), (255, 255, 255, 0)).save(root / "img" / "multicol_01.png")
    (root / "ground_truth" / "multicol_01.truth.hocr").write_bytes(HOCR)
    (root / "ground_truth" / "table_01.truth.hocr").write_bytes(HOCR)  # not a multicol page
    return root


def test_hocr_lines_and_captions_come_in_the_file_s_order_blank_lines_dropped() -> None:
    assert hocr_text(HOCR) == "First line\nA & caption"


def test_a_truth_that_is_not_xml_is_a_typed_error() -> None:
    with pytest.raises(RealPagesError):
        hocr_text(b"<html><body>unclosed")


def test_a_folder_that_is_not_the_benchmark_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(RealPagesError, match="not the benchmark"):
        real_cases(tmp_path)


def test_each_multicolumn_scan_becomes_an_rgb_png_case_with_its_truth(tmp_path: Path) -> None:
    (case,) = real_cases(checkout(tmp_path))
    assert (case.name, case.group, case.truth) == ("multicol_01.png", REAL_GROUP, hocr_text(HOCR))
    assert case.data.startswith(b"\x89PNG")
