"""What the workbench shows of jobs, built from a real store (and the real local server)."""

# The job fixtures are imported from tests/console/jobs (pytest finds imported fixtures);
# the test arguments of the same names are those fixtures, not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from console._identity import Identity, PermissionDenied, Role
from console._store import Store
from console.jobs import (
    DocumentState,
    Job,
    JobRunner,
    JobStatus,
    JobStore,
    NewDocument,
    StoredPage,
)
from console.jobs._ledger import JobLedger
from console.jobs._results import NOT_READ, document_result
from console.platforms.local import LocalPlatform
from console.service import Operations
from console.ui._workbench import (
    DISPLAY_LONGEST_SIDE,
    JobView,
    cancel_job,
    document_label,
    format_elapsed,
    job_label,
    jobs_frame,
    load_view,
    pace,
    page_image,
    progress,
)
from ocr_core import PageResult
from tests.console.jobs.conftest import jobs, make_pdf, runners, server, submit, wait_until  # noqa: F401
from tests.fakes.local_server import LocalServer

ANA = Identity("ana", Role.OPERATOR, "local")


@pytest.fixture
def door(store: Store, tmp_path: Path) -> Iterator[Callable[[str], Operations]]:
    """The console's one door over the OCR server at a URL (a local platform without
    background duties, as the UI has: the test's runner reads the jobs)."""
    made: list[LocalPlatform] = []

    def make(base_url: str) -> Operations:
        port = urlsplit(base_url).port
        assert port is not None
        platform = LocalPlatform(
            port=port, data_dir=tmp_path / "local", store=store, background=False
        )
        made.append(platform)
        return Operations(platform, store, actor="ana")

    yield make
    for platform in made:
        platform.close()


def test_page_images_for_display_are_jpegs_of_bounded_size(corpus: Path) -> None:
    data = (corpus / "scans" / "eurotext.tif").read_bytes()
    with Image.open(io.BytesIO(page_image(data, "eurotext.tif", 0))) as image:
        assert image.format == "JPEG"
        assert max(image.size) <= DISPLAY_LONGEST_SIDE


def test_elapsed_time_reads_as_seconds_minutes_or_hours() -> None:
    assert [format_elapsed(s) for s in (4.4, 65, 3 * 3600 + 120)] == [
        "4 s",
        "1 min 05 s",
        "3 h 02 min",
    ]


def test_documents_with_one_name_are_numbered_apart(jobs: JobStore) -> None:
    job_id = submit(jobs, ("scan.pdf", b"a"), ("scan.pdf", b"b"))
    labels = [document_label(d) for d in jobs.documents(job_id)]
    assert labels == ["1. scan.pdf", "2. scan.pdf"]


def test_the_job_picker_names_a_job_without_a_status_that_would_go_stale(jobs: JobStore) -> None:
    job = jobs.job(submit(jobs, ("scan.pdf", b"a")))
    assert job is not None
    label = job_label(job)
    assert label.startswith(f"#{job.id} · ")
    assert job.status.value not in label


def test_a_started_job_runs_and_its_view_accounts_for_every_page(
    runners: Callable[..., JobRunner], server: LocalServer, door: Callable[[str], Operations]
) -> None:
    runner = runners(server.base_url)
    job_id = door(server.base_url).start_job(
        [NewDocument("a.pdf", make_pdf(3)), NewDocument("junk.pdf", b"junk")],
        identity=ANA,
        revision="pid 1",
    )
    assert wait_until(lambda: not runner.jobs.job(job_id).active)
    view = load_view(runner.jobs, job_id)
    assert view is not None
    [opened] = view.opened()
    assert [p.ok for p in view.result(opened).pages] == [True, True, True]
    assert list(view.failures()) == ["junk.pdf"]
    fraction, caption = progress(view.job)
    assert fraction == 1.0 and caption.startswith("3 / 3 pages · 1 document not read · ")
    assert caption.endswith(" · done with failures")
    row = jobs_frame([view.job]).iloc[0]
    assert (row["who"], row["status"], row["revision"]) == ("ana", "done with failures", "pid 1")


def test_pages_not_read_yet_are_shown_as_waiting_not_dropped(jobs: JobStore, store: Store) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(2)))
    (document,) = jobs.documents(job_id)
    JobLedger(store).set_document(document.id, DocumentState.OPENED, 2)
    (document,) = jobs.documents(job_id)
    result = document_result(document, jobs.pages(job_id))
    assert result.page_count == 2
    assert all(NOT_READ in str(page.error) for page in result.pages)


def test_cancel_waits_for_the_runner_to_stop_the_job(
    runners: Callable[..., JobRunner], server: LocalServer, door: Callable[[str], Operations]
) -> None:
    runner = runners(server.base_url)
    operations = door(server.base_url)
    job_id = operations.start_job([NewDocument("long.pdf", make_pdf(60))], identity=ANA)
    assert wait_until(lambda: runner.jobs.job(job_id).pages_done >= 2)
    # A generous wait: the machine running the tests is shared; the page waits 5 s.
    assert cancel_job(operations, job_id, ANA, wait_s=30) is JobStatus.CANCELLED
    assert runner.jobs.job(job_id).pages_done < 60


def _opened_pdf(jobs: JobStore, store: Store) -> tuple[int, Callable[[], None]]:
    """A job of one opened 3-page PDF, and how to save its first page as read."""
    job_id = submit(jobs, ("a.pdf", make_pdf(3)))
    (document,) = jobs.documents(job_id)
    ledger = JobLedger(store)
    ledger.set_document(document.id, DocumentState.OPENED, 3)

    def save_first_page() -> None:
        ledger.save_page(
            job_id,
            document.id,
            PageResult(index=0, text="x"),
            request_id=None,
            revision=None,
            started_at=0,
        )

    return job_id, save_first_page


def test_a_running_document_counts_waiting_pages_apart_from_failed_ones(
    jobs: JobStore, store: Store
) -> None:
    job_id, save_first_page = _opened_pdf(jobs, store)
    save_first_page()
    view = JobView(jobs.job(job_id), jobs.documents(job_id), jobs.pages(job_id))
    assert view.summary(view.documents[0]).startswith(
        "3 pages · 1 read · 0 failed · 0 truncated · 2 waiting · read in "
    )


class _PageLandsBetweenReads(JobStore):
    """A store where the runner saves a page just after the job's row was read, as a live
    runner may."""

    def __init__(self, store: Store, save: Callable[[], None]) -> None:
        super().__init__(store)
        self._save = save

    def pages(self, *args: Any, **kwargs: Any) -> list[StoredPage]:
        self._save()
        return super().pages(*args, **kwargs)


def test_a_view_counts_the_job_from_the_pages_it_shows_when_a_page_lands_between_reads(
    jobs: JobStore, store: Store
) -> None:
    job_id, save_first_page = _opened_pdf(jobs, store)
    view = load_view(_PageLandsBetweenReads(store, save_first_page), job_id)
    assert view is not None
    assert view.job.pages_done == 1
    assert progress(view.job)[1].startswith("1 / 3 pages")
    assert view.summary(view.documents[0]).startswith("3 pages · 1 read · 0 failed")


def test_the_uploader_takes_every_type_the_library_reads():
    from console.ui._workbench import ACCEPTED_TYPES
    from ocr_core._sniff import SUPPORTED_KINDS

    extensions = {"jpeg": {"jpg", "jpeg"}, "tiff": {"tif", "tiff"}}
    for kind in SUPPORTED_KINDS:
        assert extensions.get(kind, {kind}) <= set(ACCEPTED_TYPES), kind


def test_a_viewer_cannot_start_a_job_whatever_the_page_showed(
    runners: Callable[..., JobRunner], server: LocalServer, door: Callable[[str], Operations]
) -> None:
    runner = runners(server.base_url)
    viewer = Identity("qa@bank.example", Role.VIEWER, "iap")
    with pytest.raises(PermissionDenied, match="starting an OCR job needs the operator role"):
        door(server.base_url).start_job([NewDocument("a.pdf", make_pdf(1))], identity=viewer)
    assert runner.jobs.jobs() == []


def test_confidence_doubtful_words_and_re_runs_are_stored_and_listed_first(
    store: Store, runners: Callable[..., JobRunner], door: Callable[[str], Operations]
) -> None:
    from console.ui._workbench import pages_to_check
    from tests.fakes.fault_server import FaultServer

    with FaultServer() as fault:
        fault.faults.doubtful_words = {"#ffffff"}
        fault.script("loop")  # the first page's first answer loops
        runner = runners(fault.base_url, concurrency=1)
        job_id = door(fault.base_url).start_job([NewDocument("two.pdf", make_pdf(2))], identity=ANA)
        assert wait_until(lambda: not runner.jobs.job(job_id).active)
    view = load_view(runner.jobs, job_id)
    assert view is not None
    for stored in view.full_pages():  # the view reads the text of pages only when asked
        assert stored.result.text == "page #ffffff"
        assert stored.result.confidence is not None and stored.result.confidence < 0.5
        assert [span.text for span in stored.result.low_confidence] == ["#ffffff"]
    # Pages render in parallel, so either may have drawn the looping first answer.
    reasons = sorted(str(stored.result.rerun_reason) for stored in view.pages)
    assert reasons == ["None", "repetition"]
    table = pages_to_check(view)
    assert sorted(table["page"]) == [1, 2]
    assert sorted(table["asked again"]) == ["", "repetition"]


def _running(done: int, total: int, elapsed_s: float) -> Job:
    return Job(
        id=1,
        name="scan.pdf",
        actor="qa",
        created_at=datetime.now(UTC),
        status=JobStatus.RUNNING,
        service_url="",
        revision=None,
        use_text_layer=False,
        documents=1,
        pages_total=total,
        pages_done=done,
        pages_failed=0,
        elapsed_s=elapsed_s,
    )


def test_a_running_job_shows_its_pages_per_minute_and_the_time_left() -> None:
    _, caption = progress(_running(done=30, total=90, elapsed_s=60.0))
    assert caption.endswith(" · running · 30.0 pages/min · about 2 min 00 s left")


def test_a_job_too_young_to_have_a_pace_says_none() -> None:
    assert pace(_running(done=1, total=90, elapsed_s=60.0)) is None
    assert pace(_running(done=10, total=90, elapsed_s=1.0)) is None


def test_a_view_reads_its_pages_without_their_text_and_one_page_with_it(
    store: Store, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    """A page view must cost about the same for 30 pages or 3,000: the counts come from rows
    read without their text, and only the page shown is read whole."""
    jobs = JobStore(store)
    job_id = submit(jobs, ("three.pdf", make_pdf(3)), url=server.base_url)
    runners(server.base_url)
    assert wait_until(lambda: not jobs.job(job_id).active)
    view = load_view(jobs, job_id)
    assert view is not None
    assert [stored.result.text for stored in view.pages] == ["", "", ""]
    [document] = view.opened()
    assert view.page(document, 1).text == view.full(document).pages[1].text != ""
    assert "3 read" in view.summary(document)
