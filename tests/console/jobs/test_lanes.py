"""Jobs cannot starve each other: a hostile document holds only its own lane, jobs beyond the
running limit wait their turn, and a cancel ends a job whatever the queue holds."""

from __future__ import annotations

from collections.abc import Callable

from console.jobs import JobRunner, JobStatus, JobStore
from console.jobs._pages import round_robin
from console.jobs._runner import MAX_RUNNING_JOBS
from tests.console.jobs.conftest import in_flight, make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer
from tests.ocr_core.hostile import operator_bomb_pages


def test_a_job_is_read_beside_a_hostile_document_that_holds_a_render_worker(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    # Each bomb page costs the sandbox up to its whole limit (how it ends depends on the
    # pdfium build: ocr_core's tests quarantine such a document under short limits).
    bomb = submit(jobs, ("bomb.pdf", operator_bomb_pages(200)))
    runner = runners(server.base_url)
    assert wait_until(lambda: jobs.documents(bomb)[0].page_count == 200)  # rendering now
    letter = submit(jobs, ("letter.pdf", make_pdf(5)))
    runner.wake()
    assert wait_until(lambda: not jobs.job(letter).active, timeout_s=120)
    still_rendering = jobs.job(bomb).active
    jobs.request_cancel(bomb)
    runner.wake()
    assert jobs.job(letter).pages_done == 5
    assert still_rendering  # the letter did not wait for the bomb
    assert wait_until(lambda: not jobs.job(bomb).active)  # and the cancel ends it


def test_jobs_beyond_the_running_limit_wait_queued(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    ids = [submit(jobs, (f"{n}.pdf", make_pdf(40))) for n in range(MAX_RUNNING_JOBS + 3)]
    runner = runners(server.base_url)
    assert wait_until(lambda: len(runner.running()) == MAX_RUNNING_JOBS)
    statuses = [jobs.job(job_id).status for job_id in ids]
    for job_id in ids:
        jobs.request_cancel(job_id)
    runner.wake()
    assert statuses.count(JobStatus.RUNNING) == MAX_RUNNING_JOBS
    assert statuses.count(JobStatus.QUEUED) == 3


def test_cancelling_half_of_many_queued_jobs_ends_each_cancelled_and_frees_the_server(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    ids = [submit(jobs, (f"{n}.pdf", make_pdf(5))) for n in range(30)]
    runner = runners(server.base_url)
    assert wait_until(lambda: len(runner.running()) > 0)
    cancelled = ids[::2]
    for job_id in cancelled:
        jobs.request_cancel(job_id)
    runner.wake()
    assert wait_until(lambda: all(not jobs.job(job_id).active for job_id in ids), timeout_s=120)
    assert {jobs.job(job_id).status for job_id in cancelled} == {JobStatus.CANCELLED}
    assert {jobs.job(job_id).status for job_id in ids[1::2]} == {JobStatus.DONE}
    assert wait_until(lambda: in_flight(server.base_url) == 0)


def test_a_jobs_documents_take_turns_page_by_page() -> None:
    queues = [["a0", "a1", "a2"], ["b0"], ["c0", "c1"]]
    assert list(round_robin(queues)) == ["a0", "b0", "c0", "a1", "c1", "a2"]
