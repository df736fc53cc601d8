"""`python -m ocr_core.bench.exports`: what writing a searchable PDF, hOCR and ALTO costs.

The corpus's digital PDF pages, kept as the archive keeps them (`archive_page`: 300 dpi
JPEG), repeated to N pages (20 by default), each with its own words at their true boxes
(pdfium's, scaled to the kept image, as the console scales located words). Prints each
format's build time (the median of a few builds) and size beside the images' total size:
the searchable PDF should be its images plus little (the corpus has 6 distinct pages; fpdf2
embeds an image met again once, so the images counted are the distinct ones).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from .._archive import archive_page
from .._exports import ExportPage, alto, hocr, searchable_pdf
from .._locate import LocatedWord, PageWords
from .locate import CORPUS, true_page

SOURCES = (("pdflatex-4-pages.pdf", 4), ("multicolumn.pdf", 1), ("minimal-document.pdf", 1))


def corpus_pages(count: int) -> list[ExportPage]:
    """`count` pages cycled from SOURCES, each its archived image and its true words."""
    distinct: list[ExportPage] = []
    for name, pages in SOURCES:
        data = (CORPUS / name).read_bytes()
        for index in range(pages):
            kept = archive_page(data, index)
            truth = true_page(CORPUS / name, index)
            words: list[LocatedWord] = []
            line = 0
            for text, box in truth.words:  # a word starting left of the one before: a line
                line += bool(words) and box[0] < (words[-1].box or box)[0]
                words.append(LocatedWord(text, box, line, 0))
            located = PageWords(truth.image.width, truth.image.height, tuple(words), ())
            scaled = located.scaled(kept.width_px, kept.height_px)
            distinct.append(ExportPage(kept.image, kept.width_pt, kept.height_pt, scaled))
    return [distinct[n % len(distinct)] for n in range(count)]


def _timed(
    write: Callable[[Sequence[ExportPage]], bytes], pages: Sequence[ExportPage], repeat: int
) -> tuple[float, int]:
    seconds, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(write(pages))
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.bench.exports", description=__doc__)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="builds per format (median)")
    args = parser.parse_args(argv)
    pages = corpus_pages(args.pages)
    # fpdf2 embeds an image met twice once: the PDF holds the distinct images.
    images = sum(len(image) for image in {p.image for p in pages})
    words = sum(len(p.words.words) for p in pages)
    print(f"{len(pages)} pages, {words} words, distinct images {images / 1e6:.2f} MB")
    for name, write in (("searchable PDF", searchable_pdf), ("hOCR", hocr), ("ALTO", alto)):
        seconds, size = _timed(write, pages, args.repeat)
        print(
            f"{name:>15}: {seconds:6.3f} s ({seconds / len(pages) * 1000:5.1f} ms/page), "
            f"{size / 1e6:6.2f} MB = {size / images:5.3f} x the images"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
