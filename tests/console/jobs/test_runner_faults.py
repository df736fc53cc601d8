"""The runner against the fault-injecting server: answers that are not what they should be
end as pages (read or failed, each saying why), the job ends and honours its cancel, and a
service that is still loading is waited for before a job is taken."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from console.jobs import JobRunner, JobStatus, JobStore
from ocr_core import AnswerTooLarge
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.fakes.fault_server import FaultServer


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def test_answers_with_lone_surrogates_end_the_job_with_their_pages_read(
    jobs: JobStore, runners: Callable[..., JobRunner], fault: FaultServer
) -> None:
    fault.script("surrogate", "surrogate_json")
    job_id = submit(jobs, ("two.pdf", make_pdf(2)))
    runners(fault.base_url, rerun_runaway=False)  # LIGHTONOCR_RERUN_RUNAWAY=0
    assert wait_until(lambda: not jobs.job(job_id).active)
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 2, 0)
    texts = [page.result.text for page in jobs.pages(job_id)]
    assert texts == ["page #ffffff \ufffd mended"] * 2


def test_a_job_whose_page_answered_a_lone_surrogate_is_cancelled_when_asked(
    jobs: JobStore, runners: Callable[..., JobRunner], fault: FaultServer
) -> None:
    fault.script("surrogate", "slow", "slow")  # the first page at once, the next ones 30 s
    job_id = submit(jobs, ("three.pdf", make_pdf(3)))
    runner = runners(fault.base_url, rerun_runaway=False, concurrency=1)
    assert wait_until(lambda: jobs.job(job_id).pages_done == 1)
    assert jobs.request_cancel(job_id) is JobStatus.RUNNING
    runner.wake()
    assert wait_until(lambda: jobs.job(job_id).status is JobStatus.CANCELLED)
    assert runner.running() == []
    [page] = jobs.pages(job_id)
    assert page.result.text == "page #ffffff \ufffd mended"


def test_an_endless_answer_fails_its_page_and_the_job_goes_on(
    jobs: JobStore, runners: Callable[..., JobRunner], fault: FaultServer
) -> None:
    fault.script("endless_deltas")
    job_id = submit(jobs, ("two.pdf", make_pdf(2)))
    runners(fault.base_url, concurrency=1)
    assert wait_until(lambda: not jobs.job(job_id).active)
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 1, 1)
    failed = [page for page in jobs.pages(job_id) if not page.result.ok]
    assert isinstance(failed[0].result.error, AnswerTooLarge)
    assert failed[0].result.text == ""
    assert len(fault.chat_requests()) == 2  # neither retried nor asked for again


def test_pages_sent_while_the_service_loads_are_read_without_a_failed_attempt(
    jobs: JobStore, runners: Callable[..., JobRunner], fault: FaultServer
) -> None:
    fault.faults.loading_requests = 4  # a restarted console's own server, still loading
    job_id = submit(jobs, ("two.pdf", make_pdf(2)))
    runners(fault.base_url, max_attempts=3)
    assert wait_until(lambda: not jobs.job(job_id).active)
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 2, 0)
    assert [page.result.attempts for page in jobs.pages(job_id)] == [1, 1]
