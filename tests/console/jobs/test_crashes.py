"""A page that was being read each time its runner died is failed, not sent again forever."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from console.jobs import JobRunner, JobStore
from console.jobs._crashes import CRASH_LIMIT, count_deaths
from console.jobs._in_flight import PageInFlight, in_flight, write_in_flight
from console.jobs._ledger import JobLedger, process_space
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer


def _dead_owner() -> str:
    """The name of a runner whose process has ended, in this process space."""
    child = subprocess.Popen(["true"])
    child.wait()
    return f"{os.uname().nodename}:{child.pid}:dead@{process_space()}"


def _die_while_reading(jobs: JobStore, job_id: int, index: int) -> None:
    """What a runner that claims the job and dies with page `index` in flight leaves."""
    ledger = JobLedger(jobs.store)
    previous = dict(ledger.claimable("someone else"))[job_id]
    assert ledger.claim(job_id, _dead_owner(), previous)
    document_id = jobs.documents(job_id)[0].id
    write_in_flight(jobs.store, job_id, [PageInFlight(document_id, index, 0.0, 1)])


def test_a_page_in_flight_at_a_death_is_counted_and_failed_at_the_limit(jobs: JobStore) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(2)))
    document_id = jobs.documents(job_id)[0].id
    counted = []
    for _ in range(CRASH_LIMIT):
        write_in_flight(jobs.store, job_id, [PageInFlight(document_id, 1, 0.0, 1)])
        counted.append(count_deaths(jobs.store, job_id))
        assert in_flight(jobs.store, job_id) == []  # the dead runner's rows are consumed
    assert counted == [[], [(document_id, 1)]]


def test_a_runner_taking_over_fails_the_page_that_stopped_two_workers(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(3)))
    _die_while_reading(jobs, job_id, 1)
    count_deaths(jobs.store, job_id)  # the first death, as the runner after it counted it
    _die_while_reading(jobs, job_id, 1)  # ... which died reading the same page
    runners(server.base_url)
    assert wait_until(lambda: not jobs.job(job_id).active)
    pages = {page.index: page.result for page in jobs.pages(job_id)}
    assert pages[0].ok and pages[2].ok
    assert "each of the 2 times the job worker stopped unexpectedly" in str(pages[1].error)
    assert jobs.job(job_id).pages_failed == 1


def test_a_page_in_flight_at_one_death_is_sent_again(
    jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(2)))
    _die_while_reading(jobs, job_id, 1)
    runners(server.base_url)
    assert wait_until(lambda: not jobs.job(job_id).active)
    assert [page.result.ok for page in jobs.pages(job_id)] == [True, True]
