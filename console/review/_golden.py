"""Reviewed pages as data: a golden set (each page's scan and its truth) so the next canary
is judged on real traffic, and the same pairs written to a folder as a data set.

Each reviewed page becomes one document of its own: the page's image as the archive keeps
it (`ocr_core.archive_page`, the scan's own pixels) named after its job and page, with the
truth as its expected text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from console.golden import GoldenDocument
from console.jobs import JobStore
from console.jobs._uploads import storable_filename
from console.review._models import ReviewError, Truth
from console.review._queue import job_page_refs
from console.review._store import ReviewStore
from ocr_core import archive_page


@dataclass(frozen=True, slots=True)
class ReviewedPage:
    """A reviewed page's scan and truth, named for a file."""

    stem: str
    image: bytes
    extension: str
    truth: Truth


def reviewed_pages(
    review: ReviewStore, jobs: JobStore, job_ids: Iterable[int] | None = None
) -> list[ReviewedPage]:
    """Every reviewed page (of `job_ids`, else all), with its scan."""
    truths = review.reviewed(job_ids)
    refs = job_page_refs(review.store, {t.job_id for t in truths})
    data: dict[int, bytes] = {}
    found = []
    for truth in truths:
        ref = refs.get((truth.document_id, truth.page_index))
        if ref is None:
            continue
        if truth.document_id not in data:
            data[truth.document_id] = jobs.document_data(truth.document_id)
        kept = archive_page(data[truth.document_id], truth.page_index)
        extension = ".jpg" if kept.image.startswith(b"\xff\xd8") else ".png"
        stem = storable_filename(f"job{ref.job_id}-page{ref.number}-{ref.filename}")
        found.append(ReviewedPage(stem.replace(".", "_"), kept.image, extension, truth))
    return found


def golden_documents(pages: Iterable[ReviewedPage]) -> list[GoldenDocument]:
    """The pages as a golden set's documents; ReviewError when there is none."""
    documents = [
        GoldenDocument(
            filename=page.stem + page.extension,
            data=page.image,
            expected_text=page.truth.text,
            text_filename=page.stem + ".txt",
        )
        for page in pages
    ]
    if not documents:
        raise ReviewError("no reviewed pages to make a golden set of")
    return documents


def write_dataset(pages: Iterable[ReviewedPage], out: Path) -> int:
    """Each page's scan and truth (`STEM.png` + `STEM.txt`) in `out`; returns how many."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in pages:
        (out / (page.stem + page.extension)).write_bytes(page.image)
        (out / (page.stem + ".txt")).write_text(page.truth.text, encoding="utf-8")
        count += 1
    return count
