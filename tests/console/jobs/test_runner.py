"""The runner against the real local OCR server: every page once, shared slots, cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable

from console.jobs import DocumentState, JobRunner, JobStatus, JobStore
from tests.console.jobs.conftest import in_flight, make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer, free_port, start_local_server


def _finished(jobs: JobStore, job_id: int) -> bool:
    return not jobs.job(job_id).active


def test_a_job_stores_every_page_of_every_document_once(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(12)), ("a.pdf", make_pdf(3)))
    runners(server.base_url)
    assert wait_until(lambda: _finished(jobs, job_id))
    job = jobs.job(job_id)
    assert (job.status, job.pages_total, job.pages_done, job.pages_failed) == (
        JobStatus.DONE,
        15,
        15,
        0,
    )
    pages = jobs.pages(job_id)
    keys = [(page.document_id, page.index) for page in pages]
    assert len(keys) == len(set(keys)) == 15
    assert all(page.result.text.startswith("simulated page") for page in pages)
    assert job.elapsed_s > 0 and job.finished_at is not None


def test_a_document_that_cannot_be_opened_fails_alone(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("notes.pdf", b"this is not a PDF"), ("good.pdf", make_pdf(2)))
    runners(server.base_url)
    assert wait_until(lambda: _finished(jobs, job_id))
    bad, good = jobs.documents(job_id)
    assert bad.state is DocumentState.FAILED
    assert "not a file type the workbench reads" in bad.error
    assert good.state is DocumentState.OPENED
    assert jobs.job(job_id).pages_done == 2


def test_two_jobs_share_the_clients_slots_instead_of_doubling_them(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    first = submit(jobs, ("one.pdf", make_pdf(12)))
    second = submit(jobs, ("two.pdf", make_pdf(12)))
    seen: list[int] = []
    done = threading.Event()
    # 1.5 s a page: rendering stays ahead of the server even on a loaded machine, so the
    # limit, not the renderer, is what holds the requests in flight.
    with start_local_server("--engine", "simulated", "--service-time", "1.5") as server:

        def watch() -> None:
            while not done.is_set():
                seen.append(in_flight(server.base_url))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            runner = runners(server.base_url, concurrency=3)
            assert wait_until(lambda: len(runner.running()) == 2 or _finished(jobs, first))
            assert wait_until(lambda: _finished(jobs, first) and _finished(jobs, second))
        finally:
            done.set()
            watcher.join()
    assert jobs.job(first).pages_done == jobs.job(second).pages_done == 12
    # The server has 8 slots: only the runner's one limit keeps it at 3.
    assert max(seen) == 3, f"in flight at the server over time: {seen}"


def test_cancel_closes_the_requests_in_flight_and_keeps_finished_pages(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("long.pdf", make_pdf(60)))
    runner = runners(server.base_url)
    assert wait_until(lambda: jobs.job(job_id).pages_done >= 8)
    assert jobs.request_cancel(job_id) is JobStatus.RUNNING
    assert wait_until(lambda: jobs.job(job_id).status is JobStatus.CANCELLED)
    assert wait_until(lambda: in_flight(server.base_url) == 0)
    kept = {page.index: page.finished_at for page in jobs.pages(job_id)}
    assert 8 <= len(kept) < 60
    assert runner.running() == []

    jobs.resume(job_id)
    runner.wake()
    assert wait_until(lambda: _finished(jobs, job_id))
    pages = jobs.pages(job_id)
    assert [page.index for page in pages] == list(range(60))
    assert all(page.finished_at == kept[page.index] for page in pages if page.index in kept)


def test_pages_failed_while_the_service_was_away_are_finished_by_a_retry(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(4)))
    away = runners(f"http://127.0.0.1:{free_port()}", breaker_failure_threshold=100)
    assert wait_until(lambda: _finished(jobs, job_id))
    job = jobs.job(job_id)
    assert (job.status, job.pages_failed) == (JobStatus.FAILED, 4)
    assert "cannot connect" in str(jobs.pages(job_id)[0].result.error)
    away.stop()

    jobs.retry_pages(job_id)
    runners(server.base_url)
    assert wait_until(lambda: _finished(jobs, job_id))
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 4, 0)
    assert all(page.result.attempts == 2 for page in jobs.pages(job_id))


def test_a_stopping_runner_hands_its_job_to_the_next_one(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("long.pdf", make_pdf(40)))
    first = runners(server.base_url)
    assert wait_until(lambda: jobs.job(job_id).pages_done >= 4)
    first.stop()
    assert jobs.job(job_id).status is JobStatus.QUEUED
    runners(server.base_url)
    assert wait_until(lambda: _finished(jobs, job_id))
    assert [page.index for page in jobs.pages(job_id)] == list(range(40))
