"""What the OCR workbench shows, read from the job store: the page itself only draws.

OCR never runs in a page's script run: a job is written to the store (through the one
door, `console.service`) and the worker's runner sends its pages. The page reads jobs, documents and
page results back from the store on every run, so a reload, a second tab or a restarted
console all show the same progress.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pandas as pd

from console._identity import Identity
from console._render import count_noun, escape_markdown
from console.jobs import DocumentState, Job, JobDocument, JobStatus, JobStore, StoredPage
from console.jobs._in_flight import PageInFlight
from console.jobs._results import document_result
from console.jobs._words import StoredWords
from console.service import Operations
from ocr_core import DocumentResult, PageResult, load_document

# A page under this confidence gets an orange badge and a place in "pages to check first".
CONFIDENT = 0.9
ACCEPTED_TYPES: tuple[str, ...] = (
    "pdf",
    "tif",
    "tiff",
    "png",
    "jpg",
    "jpeg",
    "webp",
    "bmp",
    "gif",
)
# Page images kept for display: big enough to read, small enough to send to the browser.
DISPLAY_LONGEST_SIDE = 1200
STATUS_COLOURS: dict[JobStatus, str] = {
    JobStatus.QUEUED: "gray",
    JobStatus.RUNNING: "blue",
    JobStatus.DONE: "green",
    JobStatus.CANCELLED: "orange",
    JobStatus.FAILED: "red",
}


def cancel_job(
    operations: Operations, job_id: int, identity: Identity, wait_s: float = 5.0
) -> JobStatus | None:
    """Ask for the job to stop (through the door) and give the worker a moment to close its
    requests, so the page can show the outcome rather than "cancelling…"."""
    status = operations.cancel_job(job_id, identity=identity)
    deadline = time.monotonic() + wait_s
    while status is JobStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        job = operations.jobs.job(job_id)
        status = None if job is None else job.status
    return status


def format_elapsed(seconds: float) -> str:
    whole = max(round(seconds), 0)
    if whole < 60:
        return f"{whole} s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {whole:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def pages_summary(job: Job) -> str:
    total = job.pages_total if job.pages_total else "?"
    text = f"{job.pages_done} / {total} pages"
    if job.pages_failed:
        text += f" · {job.pages_failed} failed"
    if job.documents_failed:
        text += f" · {count_noun(job.documents_failed, 'document')} not read"
    if job.pages_rerun:
        text += f" · {job.pages_rerun} asked again (runaway)"
    return text


def status_colour(job: Job) -> str:
    """The badge's colour: a job done with failures is orange, never a green "done"."""
    if job.status is JobStatus.DONE and job.has_failures:
        return "orange"
    return STATUS_COLOURS[job.status]


# Too few pages or seconds to say a pace (the first pages wait for the document to open).
PACE_MIN_PAGES = 2
PACE_MIN_S = 5.0


def pace(job: Job) -> str | None:
    """ "12.0 pages/min · about 1 min 30 s left" while a job runs, from the pages it finished
    and the time it ran (every run), or None while that says nothing yet."""
    finished = job.pages_done + job.pages_failed
    if not job.active or finished < PACE_MIN_PAGES or job.elapsed_s < PACE_MIN_S:
        return None
    per_minute = finished / job.elapsed_s * 60
    text = f"{per_minute:.1f} pages/min"
    left = job.pages_total - finished
    if job.pages_total and left > 0:
        text += f" · about {format_elapsed(left / per_minute * 60)} left"
    return text


def progress(job: Job) -> tuple[float, str]:
    """(fraction for a progress bar, its caption)."""
    finished = job.pages_done + job.pages_failed
    fraction = finished / job.pages_total if job.pages_total else 0.0
    caption = f"{pages_summary(job)} · {format_elapsed(job.elapsed_s)} · {job.outcome}"
    if speed := pace(job):
        caption += f" · {speed}"
    if job.words_progress:  # the text is done first; the words follow
        caption += f" · {job.words_progress}"
    elif job.locate_words:
        caption += f" · words located on {job.pages_located} of {job.pages_done} pages"
        if job.pages_unlocated:
            caption += f" ({job.pages_unlocated} could not be)"
    if job.cancel_requested:
        caption += " · cancelling…"
    return min(fraction, 1.0), caption


def words_missing(job: Job, page: PageResult, stored: StoredWords | None) -> str:
    """Why a page has no located words to draw, and what would give it some."""
    if stored is not None and stored.error:
        return f"This page's words could not be placed on it: {stored.error}."
    if not job.locate_words:
        return (
            "This job did not locate words. Start a job with “Locate words on the page” "
            "on to see each word on the scan."
        )
    if not page.ok or not page.text.strip():
        return "This page has no text whose words could be placed on it."
    return (
        f"Placing this page's words on it… the worker locates them after the text, at their "
        f"own pace ({job.words_progress or 'locating words'})."
    )


def job_label(job: Job) -> str:
    """The job as the "Open job" picker names it. No status: the picker is drawn with the
    page, so a status in it would go stale while the job runs; the jobs table above and
    the progress bar redraw on their own and say it."""
    when = job.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"#{job.id} · {job.name} · {when}"


def jobs_frame(jobs: Iterable[Job]) -> pd.DataFrame:
    """The jobs list as the workbench shows it, newest first (the store's order)."""
    columns = ["job", "name", "who", "when", "status", "pages", "elapsed", "service", "revision"]
    return pd.DataFrame(
        [
            {
                "job": job.id,
                "name": f"[{job.purpose}] {job.name}" if job.purpose else job.name,
                "who": job.actor,
                "when": job.created_at.astimezone().replace(tzinfo=None),
                "status": job.outcome,
                "pages": pages_summary(job),
                "elapsed": format_elapsed(job.elapsed_s),
                "service": job.service_url,
                "revision": job.revision or "",
            }
            for job in jobs
        ],
        columns=columns,
    )


def document_label(document: JobDocument) -> str:
    """Numbered, so two uploads with one name are two distinct entries."""
    label = f"{document.position + 1}. {document.filename}"
    if document.state is DocumentState.OPENED:
        label += f" ({count_noun(document.page_count, 'page')})"
    return label


@dataclass(frozen=True, slots=True)
class JobView:
    """Everything the page shows of one job, read in one go."""

    job: Job
    documents: list[JobDocument]
    # Without their text when read by `load_view` (a page view must cost the same for a
    # job of 30 pages or 3,000): `page`, `full` and `full_pages` read the text when needed.
    pages: list[StoredPage]
    jobs: JobStore | None = None

    def opened(self) -> list[JobDocument]:
        return [d for d in self.documents if d.state is DocumentState.OPENED]

    def problems(self) -> list[JobDocument]:
        return [
            d
            for d in self.documents
            if d.state in (DocumentState.FAILED, DocumentState.NEEDS_PASSWORD)
        ]

    def result(self, document: JobDocument) -> DocumentResult:
        return document_result(document, self.pages)

    def full(self, document: JobDocument) -> DocumentResult:
        """The document's result with every page's text (for its exports)."""
        if self.jobs is None:
            return self.result(document)
        return document_result(document, self.jobs.pages(self.job.id, document.id))

    def full_pages(self) -> list[StoredPage]:
        """Every stored page with its text (scores against references)."""
        return self.pages if self.jobs is None else self.jobs.pages(self.job.id)

    def page(self, document: JobDocument, index: int) -> PageResult:
        """One page with its text: the one shown."""
        if self.jobs is None:
            return self.result(document).pages[index]
        stored = self.jobs.pages(self.job.id, document.id, index=index)
        return document_result(document, stored).pages[index]

    def results(self) -> list[DocumentResult]:
        """Every opened document with its pages' text (the whole job's zip)."""
        return [self.full(d) for d in self.opened()]

    def failures(self) -> dict[str, str]:
        failures: dict[str, str] = {}
        for document in self.problems():
            key = document.filename
            if key in failures:
                key = f"{key} (file {document.position + 1})"
            failures[key] = document.error or "could not be read"
        return failures

    def stored(self, document: JobDocument, index: int) -> StoredPage | None:
        for page in self.pages:
            if page.document_id == document.id and page.index == index:
                return page
        return None

    def summary(self, document: JobDocument) -> str:
        """Pages read, failed, still waiting and truncated: a page not read yet is not failed."""
        mine = [p.result for p in self.pages if p.document_id == document.id]
        read = sum(1 for r in mine if r.ok)
        text = (
            f"{count_noun(document.page_count, 'page')} · {read} read · "
            f"{len(mine) - read} failed · {sum(1 for r in mine if r.truncated)} truncated"
        )
        if len(mine) < document.page_count:
            text += f" · {document.page_count - len(mine)} waiting"
        if mine:
            # The results kept, not a failed run a retry replaced (issue 11).
            seconds = self.result(document).wall_time_s
            took = f"{seconds:.1f} s" if seconds < 60 else format_elapsed(seconds)
            text += f" · read in {took}"
        return text


def load_view(jobs: JobStore, job_id: int) -> JobView | None:
    job = jobs.job(job_id)
    if job is None:
        return None
    pages = jobs.pages(job_id, with_text=False)
    # The job's counts from the page rows the view shows, not from its own earlier read: a
    # page stored between the two reads would have the progress bar and the document's
    # counts disagree.
    read = sum(1 for p in pages if p.result.ok)
    job = replace(job, pages_done=read, pages_failed=len(pages) - read)
    return JobView(job, jobs.documents(job_id), pages, jobs)


def page_image(data: bytes, filename: str, index: int) -> bytes:
    """A page as a JPEG for display (rendering is not OCR: the page may do it)."""
    with load_document(data, filename=filename) as document:
        image = document.page(index).image.convert("RGB")
    image.thumbnail((DISPLAY_LONGEST_SIDE, DISPLAY_LONGEST_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def confidence_facts(page: PageResult) -> list[str]:
    """The model's confidence and any re-run, as badges for the page's detail line."""
    facts = []
    if page.confidence is not None:
        colour = "green" if page.confidence >= CONFIDENT else "orange"
        facts.append(f":{colour}-badge[confidence {page.confidence:.0%}]")
    if page.rerun_reason:
        facts.append(f":orange-badge[asked again: {page.rerun_reason}]")
    return facts


def doubtful_words(page: PageResult) -> str:
    """The words the model was unsure of, with their probability, as one markdown line."""
    return " · ".join(
        f"`{escape_markdown(span.text)}` {span.probability:.0%}" for span in page.low_confidence
    )


def pages_to_check(view: JobView, limit: int = 10) -> pd.DataFrame:
    """The least confident pages of a job first (then re-run ones), so QA look where it
    matters; pages without a confidence (text layer, failed, old) are left out."""
    names = {d.id: d.filename for d in view.documents}
    rows = [
        {
            "document": names.get(stored.document_id, "?"),
            "page": stored.result.index + 1,
            "confidence": round(stored.result.confidence, 3),
            "doubtful words": len(stored.result.low_confidence),
            "asked again": stored.result.rerun_reason or "",
        }
        for stored in view.pages
        if stored.result.confidence is not None
    ]
    rows.sort(key=lambda row: row["confidence"])
    columns = ["document", "page", "confidence", "doubtful words", "asked again"]
    return pd.DataFrame(rows[:limit], columns=columns)


def page_facts(stored: StoredPage | None) -> list[str]:
    """Where and when a page was read, for its detail line."""
    if stored is None:
        return []
    facts = [f"read {stored.finished_at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}"]
    if stored.revision:
        facts.append(f"by {stored.revision}")
    if stored.request_id:
        facts.append(f"request `{stored.request_id}`")
    return facts


def in_flight_caption(pages: list[PageInFlight], *, now: float | None = None) -> str | None:
    """ "3 in flight, the oldest for 2 min 05 s · 1 retrying (page 4, attempt 2, after
    RequestTimeout: ...)", or None when nothing is in flight."""
    if not pages:
        return None
    waited = max((time.time() if now is None else now) - pages[0].since, 0.0)
    text = f"{len(pages)} in flight, the oldest for {format_elapsed(waited)}"
    if rendering := sum(page.attempt == 0 for page in pages):
        text += f" · {rendering} not sent yet (being rendered, or waiting for a slot)"
    retrying = [page for page in pages if page.retrying]
    if retrying:
        first = retrying[0]
        text += (
            f" · {len(retrying)} retrying (page {first.index + 1}, attempt {first.attempt}, "
            f"after {first.why or 'a failure'})"
        )
    return text
