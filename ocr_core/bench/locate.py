"""`python -m ocr_core.bench.locate`: located words against a digital PDF's own word boxes.

A digital PDF rendered to an image knows where each of its characters is (pdfium's char
boxes), so it is the truth for `ocr_core.locate_words`: the share of located words whose box
overlaps a true box of the same word with IoU >= 0.5, for the PDF's own text (a service that
reads every word right), for a simulated service's text (`service_text`: markdown, hyphens
joined, 3 % of words misread) and for the embedded engine's text (the local server's
answer), with seconds per page and pages per second per core, for each way of reading the
page (`Reading`) side by side in one run: "least" (lines placed by their words' widths,
the ends of the rest read), "ends" (every line's first and last word read) and "whole"
(every line read, as locating was before issue 34). A word misread by the service is judged
by its true word.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from rapidfuzz import fuzz

from .._locate import PageWords, Reading, locate_words, normalise
from .._word_boxes import Box

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "pdf"
DIGITAL = ("multicolumn.pdf", "pdflatex-4-pages.pdf", "minimal-document.pdf")
LONGEST_SIDE = 1540
MIN_IOU = 0.5
# pdfium's marks for a hyphen that breaks a word at a line's end (in the page's text and in
# its characters): the text a service reads there is "rhon-" and "cus" on the next line.
HYPHEN_MARKS = ("\x02", "\ufffe")


@dataclass(frozen=True, slots=True)
class TruePage:
    """A rendered page, its text and each word's true box in the image's pixels."""

    image: Image.Image
    text: str
    words: list[tuple[str, Box]]


def true_page(path: Path, index: int, longest_side: int = LONGEST_SIDE) -> TruePage:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        width, height = page.get_size()
        scale = longest_side / max(width, height)
        image = page.render(scale=scale).to_pil().convert("RGB")
        textpage = page.get_textpage()
        words: list[tuple[str, Box]] = []
        chars: list[str] = []
        box: list[float] | None = None
        for i in range(textpage.count_chars()):
            char = textpage.get_text_range(i, 1)
            hyphen = char in HYPHEN_MARKS
            if hyphen:  # a word broken across two lines is two located pieces
                char = "-"
            if not char.strip():
                if chars and box is not None:
                    words.append(("".join(chars), _to_pixels(box, height, scale)))
                chars, box = [], None
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            chars.append(char)
            box = (
                [left, bottom, right, top]
                if box is None
                else [min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)]
            )
            if hyphen:
                words.append(("".join(chars), _to_pixels(box, height, scale)))
                chars, box = [], None
        if chars and box is not None:
            words.append(("".join(chars), _to_pixels(box, height, scale)))
        text = textpage.get_text_bounded()
        for mark in HYPHEN_MARKS:
            text = text.replace(mark, "-\n")
        return TruePage(image, text, words)
    finally:
        pdf.close()


def service_text(text: str, *, seed: int, misread: float = 0.03) -> str:
    """The page as a VLM service writes it: markdown (the first line a heading), hyphens
    at line ends joined back into their words, and a share of words misread (one
    character changed), so the locator is judged on text that is not the page's own."""
    rng = random.Random(seed)
    joined = re.sub(r"-\n(\S)", r"\1", text)
    lines = []
    for n, line in enumerate(joined.splitlines()):
        words = [
            _misread(word, rng) if rng.random() < misread and len(word) > 3 else word
            for word in line.split()
        ]
        lines.append(("# " if n == 0 and words else "") + " ".join(words))
    return "\n".join(lines)


def _misread(word: str, rng: random.Random) -> str:
    at = rng.randrange(len(word))
    return word[:at] + rng.choice("ecoanrl1") + word[at + 1 :]


def _to_pixels(box: list[float], page_height: float, scale: float) -> Box:
    left, bottom, right, top = box
    return (
        left * scale,
        (page_height - top) * scale,
        right * scale,
        (page_height - bottom) * scale,
    )


def iou(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def overlap_share(located: PageWords, truth: TruePage) -> tuple[int, int]:
    """(located words on a true box of the same word at IoU >= 0.5, located words); a word
    the page does not hold (misread) is judged by the true words like it."""
    by_word: dict[str, list[Box]] = {}
    for word, box in truth.words:
        by_word.setdefault(normalise(word), []).append(box)
    hits = total = 0
    for found in located.words:
        if found.box is None:
            continue
        total += 1
        word = normalise(found.text)
        boxes = by_word.get(word) or [
            box for true, group in by_word.items() if fuzz.ratio(word, true) >= 60 for box in group
        ]
        if any(iou(found.box, box) >= MIN_IOU for box in boxes):
            hits += 1
    return hits, total


READINGS: tuple[Reading, ...] = ("least", "ends", "whole")


def main(argv: list[str] | None = None) -> None:
    import pypdfium2 as pdfium

    from ..server._engine import RapidOcrEngine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=6, help="pages at most per PDF")
    parser.add_argument(
        "--reading",
        choices=READINGS,
        action="append",
        help="how much of each page is read (every one, side by side, when not given)",
    )
    args = parser.parse_args(argv)
    readings: list[Reading] = args.reading or list(READINGS)
    engine = RapidOcrEngine()
    texts = ("true text", "service text", "engine text")
    totals = {(reading, label): [0, 0, 0] for reading in readings for label in texts}
    seconds: dict[Reading, list[float]] = {reading: [] for reading in readings}
    for reading in readings:  # the locating worker's engine loaded before anything is timed
        locate_words(Image.new("RGB", (200, 100), "white"), "warm", reading=reading)
    for name in DIGITAL:
        path = CORPUS / name
        count = len(pdfium.PdfDocument(str(path)))
        for index in range(min(count, args.pages)):
            truth = true_page(path, index)
            for label, text in (
                ("true text", truth.text),
                ("service text", service_text(truth.text, seed=index)),
                ("engine text", engine.read(truth.image).text),
            ):
                for reading in readings:
                    started = time.perf_counter()
                    located = locate_words(truth.image, text, reading=reading)
                    seconds[reading].append(time.perf_counter() - started)
                    hits, boxed = overlap_share(located, truth)
                    total = totals[reading, label]
                    total[0] += hits
                    total[1] += boxed
                    total[2] += len(located.words)
                    print(
                        f"{name} p{index + 1} {label}, reading {reading}: {hits}/{boxed} "
                        f"IoU>=0.5, {boxed}/{len(located.words)} located, "
                        f"{seconds[reading][-1]:.2f} s"
                    )
    cores = os.cpu_count() or 1
    for reading in readings:
        for label in texts:
            hits, boxed, words = totals[reading, label]
            print(
                f"reading {reading}, {label}: {hits / max(boxed, 1):.1%} of located words at "
                f"IoU >= {MIN_IOU} ({hits}/{boxed}); {boxed / max(words, 1):.1%} of words located"
            )
    for reading in readings:
        median = statistics.median(seconds[reading])
        print(
            f"reading {reading}: seconds per {LONGEST_SIDE} px page: median {median:.2f}, "
            f"max {max(seconds[reading]):.2f}; {1 / median / cores:.3f} pages/s per core "
            f"({cores} cores); {sum(seconds[reading]):.1f} s in all"
        )
    if "whole" in readings:
        whole = sum(seconds["whole"])
        for reading in readings:
            print(f"reading {reading}: {whole / sum(seconds[reading]):.2f}x as fast as whole")


if __name__ == "__main__":
    main()
