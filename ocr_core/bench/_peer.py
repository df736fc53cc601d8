"""The embedded engine beside a peer, on the same pages in one run: Debian's `tesseract`.

Each reads a page as it would be used: tesseract is given the page file a user has (the
corpus scan, the digital PDF page rendered at 300 dpi, the synthetic page) with its default
page segmentation and `-l eng`; the engine is given the page as the local server receives it
from the client (the client's preparation at the server's preferred side). Both are scored
with the quality bench's one scorer (`_score`: word F1, word recall, reading-order CER after
`ocr_core.quality`'s normalisation) against the same truth.

Seconds per page are wall time (tesseract's process per page, the engine's `read` on a warm
engine); peak memory is the most resident memory of any tesseract process (`wait4`) and of
the process that holds the engine (its own `ru_maxrss`, models included). The engine runs in
a spawned child so that its memory is its own and not the bench's.

Without `tesseract` on the PATH the bench says so and measures the engine alone (CI has no
tesseract; install it with `apt-get install tesseract-ocr tesseract-ocr-eng`).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ._quality import Case, corpus_cases, prepared
from ._real_pages import real_cases
from ._score import Score, score

PEER = "tesseract"
SCAN_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


@dataclass(frozen=True, slots=True)
class Reading:
    """One tool's pages: (score, seconds) per page, and its peak resident memory in MB."""

    tool: str
    pages: list[tuple[Score, float]]
    peak_mb: float


def tesseract_text(path: Path) -> tuple[str, float, float]:
    """(text, seconds, peak MB) of one `tesseract FILE stdout -l eng` run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [PEER, str(path), "stdout", "-l", "eng"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"tesseract failed on {path.name} (exit {process.returncode})")
    return out.decode("utf-8", "replace"), seconds, usage.ru_maxrss / 1024


def read_with_tesseract(cases: list[Case]) -> Reading:
    pages, peak = [], 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for n, case in enumerate(cases):
            suffix = Path(case.name).suffix.lower()  # a rendered or synthetic page is a PNG
            path = Path(scratch) / f"page-{n}{suffix if suffix in SCAN_SUFFIXES else '.png'}"
            path.write_bytes(case.data)
            text, seconds, peak_mb = tesseract_text(path)
            pages.append((score(case.truth, text), seconds))
            peak = max(peak, peak_mb)
    return Reading(PEER, pages, peak)


def _engine_pages(images: list[Image.Image]) -> tuple[list[tuple[str, float]], float]:
    """In a spawned child: each page's text and seconds, and the child's peak MB."""
    from ..server._engine import RapidOcrEngine

    engine = RapidOcrEngine()
    engine.prime()  # as the server does before it says ready: pages are timed warm
    found = []
    for image in images:
        started = time.perf_counter()
        text = engine.read(image).text
        found.append((text, time.perf_counter() - started))
    return found, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_with_engine(cases: list[Case], side: int) -> Reading:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as child:
        # Prepared here: the child holds the engine alone, not the document sandbox too.
        images = [prepared(case, side) for case in cases]
        found, peak = child.submit(_engine_pages, images).result()
    pages = [(score(case.truth, text), s) for case, (text, s) in zip(cases, found, strict=True)]
    return Reading("embedded engine", pages, peak)


def run(
    corpus: Path,
    preferred_side: int = 2000,
    only_pages: list[str] | None = None,
    real: Path | None = None,
) -> None:
    """Print per-page and per-group figures of the engine and, when installed, tesseract;
    with `real`, also on the real multi-column scans of that checkout (`_real_pages`)."""
    cases = corpus_cases(corpus)
    if only_pages:
        cases = [c for c in cases if any(part in c.name for part in only_pages)]
    if real is not None:
        cases += real_cases(real)
    readings = []
    if shutil.which(PEER) is None:
        print(
            f"{PEER} is not installed, so it is not measured (Debian: apt-get install "
            "tesseract-ocr tesseract-ocr-eng); the embedded engine alone:",
            flush=True,
        )
    else:
        version = subprocess.run([PEER, "--version"], capture_output=True, text=True).stdout
        print(f"peer: {version.splitlines()[0] if version else PEER}", flush=True)
        readings.append(read_with_tesseract(cases))
    if not cases:
        print("no pages chosen")
        return
    readings.append(read_with_engine(cases, preferred_side))
    print(f"\n{'page':34} " + " ".join(f"{r.tool[:22]:>24}" for r in readings))
    for n, case in enumerate(cases):
        cells = (r.pages[n] for r in readings)
        print(
            f"{case.name[:34]:34} "
            + " ".join(f"{s.f1:.3f}/{s.cer:.3f}/{t:6.1f}s" for s, t in cells)
        )
    print("\n| page group | tool | word F1 | word recall | reading-order CER | s/page | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for group in dict.fromkeys(case.group for case in cases):
        for reading in readings:
            picked = [p for c, p in zip(cases, reading.pages, strict=True) if c.group == group]
            print(
                f"| {group} ({len(picked)}) | {reading.tool} "
                f"| {statistics.fmean(s.f1 for s, _ in picked):.3f} "
                f"| {statistics.fmean(s.recall for s, _ in picked):.3f} "
                f"| {statistics.fmean(s.cer for s, _ in picked):.3f} "
                f"| {statistics.fmean(t for _, t in picked):.1f} | {reading.peak_mb:.0f} |"
            )
