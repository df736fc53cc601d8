"""The peer bench: tesseract beside the embedded engine when installed, said plainly when not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_core.bench._peer import tesseract_text
from ocr_core.bench._score import score

ROOT = Path(__file__).resolve().parents[2]
SCANS = ROOT.parent / "shared" / "corpus" / "scans"


def test_without_tesseract_the_peer_bench_says_so_and_does_not_fail(tmp_path: Path) -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocr_core.bench",
            "--peer",
            "tesseract",
            "--quality-pages",
            "no-such-page",
        ],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert "tesseract is not installed" in ran.stdout
    assert "apt-get install tesseract-ocr tesseract-ocr-eng" in ran.stdout


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
@pytest.mark.skipif(not (SCANS / "phototest.tif").exists(), reason="corpus")
def test_tesseract_reads_a_scan_with_its_time_and_peak_memory() -> None:
    text, seconds, peak_mb = tesseract_text(SCANS / "phototest.tif")
    assert score((SCANS / "phototest.txt").read_text(), text).f1 > 0.8
    assert seconds > 0 and peak_mb > 1
