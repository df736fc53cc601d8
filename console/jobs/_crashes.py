"""Pages that were being read when their runner died: counted, and failed at the second.

A runner writes its pages in flight to the store (`_in_flight.py`) from the moment it starts
preparing them. A runner that dies cannot clear them, so the next runner to claim the job
finds them: each such page was in flight at a death. Sent again, a page that kills whatever
reads it would take every new runner down in turn, forever; so at its second death it is
failed with `PageStoppedWorker` instead, which a person can still retry by hand.
"""

from __future__ import annotations

from console._store import Store
from console.jobs._in_flight import in_flight, write_in_flight
from console.jobs._ledger import JobLedger
from console.jobs._rows import now_ts
from ocr_core import PageRenderError, PageResult

CRASH_LIMIT = 2
_KEY = "job.crashed_pages:{job_id}"


class PageStoppedWorker(PageRenderError):
    """The page was being read each time its job's worker died, so it is not sent again."""


def count_deaths(store: Store, job_id: int) -> list[tuple[int, int]]:
    """Count a death for each page the job's dead runner left in flight; the (document,
    page index) of those that reached `CRASH_LIMIT`, to be failed rather than sent."""
    left = in_flight(store, job_id)
    if not left:
        return []
    key = _KEY.format(job_id=job_id)
    counts = {(doc, index): n for doc, index, n in store.get_setting(key) or []}
    for page in left:
        counts[(page.document_id, page.index)] = counts.get((page.document_id, page.index), 0) + 1
    store.set_setting(key, [[doc, index, n] for (doc, index), n in counts.items()])
    write_in_flight(store, job_id, [])
    return sorted(page for page, n in counts.items() if n >= CRASH_LIMIT)


def stopped_worker(index: int) -> PageStoppedWorker:
    return PageStoppedWorker(
        f"this page was being read each of the {CRASH_LIMIT} times the job worker stopped "
        "unexpectedly, so it is not sent again; retry it by hand to try once more",
        page_index=index,
    )


def fail_pages_that_stopped_workers(ledger: JobLedger, job_id: int) -> None:
    """Count this death for the pages the job's dead runner left in flight, and fail those
    at the limit (before the new runner lists what to send)."""
    for document_id, index in count_deaths(ledger.store, job_id):
        failed = PageResult(index=index, error=stopped_worker(index))
        ledger.save_page(
            job_id, document_id, failed, request_id=None, revision=None, started_at=now_ts()
        )
