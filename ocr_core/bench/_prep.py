"""Page preparation: what it costs to turn a file into request-ready page images.

Three paths, timed side by side over every PDF and scan in the corpus, best of `repeat`
passes per file (other work on the machine only ever makes a pass slower):

- naive: the LightOnOCR model card's recipe: pypdfium2 renders each PDF page at 200 dpi,
  images are sent at their own size, and every page is encoded as PNG at Pillow's defaults;
- naive@1540: the same PNG encoding, but of exactly the pixels our path sends, so the ratio
  to it isolates what the encoding choice (not the smaller render) buys;
- ours: `load_document` + `Page.encode()` (render straight to 1540 px, JPEG 92, 4:4:4),
  parsed and rendered in the sandbox's worker processes (the default);
- in-process: the same without the sandbox, so the difference is what the box costs.

Then "no loss of CER": the local OCR engine reads the ground-truth scans three ways (the
naive PNG, our pixels as lossless PNG, our JPEG) and the CER of each is printed.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image, ImageSequence

from ocr_core import quality

from .._config import DocumentSettings
from .._documents import load_document
from .._imaging import fit_longest_side
from .._pdf import render_scale

MODEL_CARD_SCALE = 200 / 72  # 200 dpi, as the model card renders PDFs
LONGEST_SIDE = 1540
# The corpus's encrypted sample; its password is published with it.
PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword"}
PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})


@dataclass(frozen=True, slots=True)
class Prepared:
    """One path's output for one file: encoded page sizes in bytes."""

    page_bytes: list[int]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _naive_images(data: bytes, password: str | None, fit: bool) -> list[Image.Image]:
    """Page images as a straightforward script makes them (no type sniffing, no limits)."""
    if data.startswith(b"%PDF"):
        pdf = pdfium.PdfDocument(data, password=password)
        try:
            images = []
            for index in range(len(pdf)):
                page = pdf[index]
                width, height = page.get_size()
                scale = render_scale(width, height, LONGEST_SIDE) if fit else MODEL_CARD_SCALE
                images.append(page.render(scale=scale).to_pil())
                page.close()
            return images
        finally:
            pdf.close()
    with Image.open(io.BytesIO(data)) as image:
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    frames = [f if f.mode in PNG_MODES else f.convert("RGB") for f in frames]
    if fit:
        frames = [
            fit_longest_side(f.convert("L") if f.mode == "1" else f, LONGEST_SIDE) for f in frames
        ]
    return frames


def naive(data: bytes, password: str | None) -> Prepared:
    return Prepared([len(_png(image)) for image in _naive_images(data, password, fit=False)])


def naive_1540(data: bytes, password: str | None) -> Prepared:
    return Prepared([len(_png(image)) for image in _naive_images(data, password, fit=True)])


def ours(data: bytes, password: str | None) -> Prepared:
    with load_document(data, password=password) as document:
        return Prepared([len(page.encode().data) for page in document.pages()])


def in_process(data: bytes, password: str | None) -> Prepared:
    settings = DocumentSettings(isolated=False)
    with load_document(data, password=password, settings=settings) as document:
        return Prepared([len(page.encode().data) for page in document.pages()])


PATHS: dict[str, Callable[[bytes, str | None], Prepared]] = {
    "naive": naive,
    "naive@1540": naive_1540,
    "ours": ours,
    "in-process": in_process,
}


def corpus_files(corpus: Path) -> list[Path]:
    """Every PDF and raster scan in the corpus (ground-truth .txt files are not inputs)."""
    suffixes = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".webp", ".bmp"}
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() in suffixes)


def _seconds(path: Callable[[bytes, str | None], Prepared], data: bytes, pw: str | None) -> float:
    started = time.perf_counter()
    path(data, pw)
    return time.perf_counter() - started


def time_paths(
    files: list[Path], repeat: int
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Best-of-`repeat` seconds per (path, file), the passes interleaved across paths."""
    best: dict[str, dict[str, float]] = {name: {} for name in PATHS}
    pages: dict[str, int] = {}
    for file in files:
        data, password = file.read_bytes(), PASSWORDS.get(file.name)
        pages[file.name] = len(ours(data, password).page_bytes)  # also warms caches for all paths
        for _ in range(repeat):
            for name, path in PATHS.items():
                seconds = _seconds(path, data, password)
                best[name][file.name] = min(best[name].get(file.name, seconds), seconds)
    return best, pages


def measure_cer(corpus: Path) -> dict[str, dict[str, float]]:
    """CER per scan with ground truth, for the naive PNG, our pixels as PNG, and our JPEG."""
    from ..server._engine import load_engine  # server extra: rapidocr + onnxruntime

    engine = load_engine()
    results: dict[str, dict[str, float]] = {}
    for truth in sorted((corpus / "scans").glob("*.txt")):
        scans = [p for p in truth.parent.glob(truth.stem + ".*") if p.suffix != ".txt"]
        if not scans:
            continue
        data, reference = scans[0].read_bytes(), truth.read_text(encoding="utf-8")
        naive_image = _naive_images(data, None, fit=False)[0]
        with load_document(data) as document:
            page = document.page(0)
            ours_png = Image.open(io.BytesIO(_png(page.image)))
            ours_jpeg = Image.open(io.BytesIO(page.encode().data))
        variants = {
            "naive": Image.open(io.BytesIO(_png(naive_image))),
            "ours as PNG": ours_png,
            "ours": ours_jpeg,
        }
        results[scans[0].name] = {
            name: quality.cer(engine.read(image).text, reference)
            for name, image in variants.items()
        }
    return results


def run(corpus: Path, repeat: int = 3) -> dict[str, float]:
    """Print the preparation table and CER check; return the headline figures."""
    files = corpus_files(corpus)
    if not files:
        raise FileNotFoundError(f"no PDFs or scans under {corpus}")
    best, pages = time_paths(files, repeat)
    names = list(PATHS)
    sizes = {name: _kib_per_page(PATHS[name], files) for name in names}
    header = f"{'file':34} {'pages':>5} " + " ".join(f"{n + ' ms/p':>16}" for n in names)
    print(header + f" {'naive/ours':>10} {'@1540/ours':>10}")
    same_pixel_ratios = []
    for file in files:
        count = pages[file.name]
        per_page = [best[name][file.name] * 1000 / count for name in names]
        same_pixel_ratios.append(per_page[1] / per_page[2])
        line = f"{file.name[:34]:34} {count:5d} " + " ".join(f"{v:16.1f}" for v in per_page)
        print(line + f" {per_page[0] / per_page[2]:9.2f}x {same_pixel_ratios[-1]:9.2f}x")
    total_pages = sum(pages.values())
    totals = {name: sum(best[name].values()) * 1000 / total_pages for name in names}
    print(
        f"{'all (' + str(len(files)) + ' files)':34} {total_pages:5d} "
        + " ".join(f"{totals[n]:16.1f}" for n in names)
        + f" {totals['naive'] / totals['ours']:9.2f}x"
        + f" {totals['naive@1540'] / totals['ours']:9.2f}x"
    )
    print("payload KiB/page: " + ", ".join(f"{n} {sizes[n]:.0f}" for n in names))
    figures = {
        "pages": float(total_pages),
        "naive_ms_per_page": totals["naive"],
        "naive_1540_ms_per_page": totals["naive@1540"],
        "ours_ms_per_page": totals["ours"],
        "speedup": totals["naive"] / totals["ours"],
        "speedup_same_pixels": totals["naive@1540"] / totals["ours"],
        "speedup_same_pixels_median_file": statistics.median(same_pixel_ratios),
        "in_process_ms_per_page": totals["in-process"],
        "sandbox_overhead_ms_per_page": totals["ours"] - totals["in-process"],
    }
    print(
        f"sandbox: {figures['sandbox_overhead_ms_per_page']:+.1f} ms/page over rendering "
        f"in-process ({totals['ours']:.1f} vs {totals['in-process']:.1f} ms/page)"
    )
    print(
        f"prep speedup (target >= 4x): {figures['speedup']:.1f}x vs naive (model card: 200 dpi, "
        f"PNG); vs PNG of the same 1540 px pixels {figures['speedup_same_pixels']:.1f}x overall, "
        f"{figures['speedup_same_pixels_median_file']:.1f}x for the median file"
    )

    try:
        cers = measure_cer(corpus)
    except ImportError as exc:
        print(f"CER check skipped: the OCR engine is not installed ({exc})")
        return figures
    print(
        f"\n{'scan':20} " + " ".join(f"{'CER ' + n:>16}" for n in ("naive", "ours as PNG", "ours"))
    )
    for scan, scores in cers.items():
        print(f"{scan:20} " + " ".join(f"{v:16.4f}" for v in scores.values()))
    for name in ("naive", "ours as PNG", "ours"):
        key = "cer_" + name.replace(" ", "_")
        figures[key] = statistics.fmean(row[name] for row in cers.values())
    verdict = "no loss" if figures["cer_ours"] <= figures["cer_naive"] else "LOSS"
    print(f"mean CER naive {figures['cer_naive']:.4f} vs ours {figures['cer_ours']:.4f}: {verdict}")
    return figures


def _kib_per_page(path: Callable[[bytes, str | None], Prepared], files: list[Path]) -> float:
    sizes = [
        size
        for file in files
        for size in path(file.read_bytes(), PASSWORDS.get(file.name)).page_bytes
    ]
    return sum(sizes) / len(sizes) / 1024
