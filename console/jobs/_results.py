"""A job's stored pages as `DocumentResult`s: what downloads, exports and the page view show.

A document's time is the time spent reading the results it keeps (`reading_time`).
A page without a result yet (the job still runs, or was cancelled) is there too, as an error
that says so, so an export never silently drops a page.
"""

from __future__ import annotations

from console.jobs._models import DocumentState, JobDocument, StoredPage
from console.jobs._store import JobStore
from ocr_core import DocumentResult, OCRError, PageResult

NOT_READ = "not read yet (the job is still running, was cancelled, or stopped)"


def document_result(document: JobDocument, pages: list[StoredPage]) -> DocumentResult:
    """Every page of an opened document in page order, waiting pages included."""
    stored = {page.index: page.result for page in pages if page.document_id == document.id}
    results = [
        stored.get(i) or PageResult(index=i, error=OCRError(NOT_READ, page_index=i))
        for i in range(document.page_count)
    ]
    mine = [page for page in pages if page.document_id == document.id]
    return DocumentResult(pages=results, filename=document.filename, wall_time_s=reading_time(mine))


def reading_time(pages: list[StoredPage]) -> float:
    """Seconds spent reading the results kept: the union of each stored page's own interval.

    Only the latest result of a page is stored, so a failed run that a retry replaced, and the
    idle time before that retry, count for nothing; pages read at the same time count once.
    """
    total, end = 0.0, None
    for page in sorted(pages, key=lambda p: p.started_at):
        start, finish = page.started_at, page.finished_at
        if end is None or start >= end:
            total += (finish - start).total_seconds()
            end = finish
        elif finish > end:
            total += (finish - end).total_seconds()
            end = finish
    return total


def job_results(jobs: JobStore, job_id: int) -> tuple[list[DocumentResult], dict[str, str]]:
    """(results of the opened documents, why each unopened one failed), in upload order.

    Failures are keyed by file name; a repeated name gets its position so none hides another.
    """
    pages = jobs.pages(job_id)
    results: list[DocumentResult] = []
    failures: dict[str, str] = {}
    for document in jobs.documents(job_id):
        if document.state is DocumentState.OPENED:
            results.append(document_result(document, pages))
        else:
            key = document.filename
            if key in failures:
                key = f"{key} (file {document.position + 1})"
            failures[key] = document.error or f"not opened ({document.state.value})"
    return results, failures
