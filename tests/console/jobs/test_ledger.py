"""Who owns a job: a runner is judged gone by its pid only in the process space it was
started in; elsewhere (another instance with the same host name, Cloud Run) its heartbeat
alone decides, so a live runner's job is never taken and its pages never sent twice."""

from __future__ import annotations

import os
import subprocess
import sys

from console.jobs import JobStore
from console.jobs._ledger import JobLedger, process_space
from tests.console.jobs.conftest import make_pdf, submit


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _claimed_by(jobs: JobStore, owner: str) -> int:
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    assert JobLedger(jobs.store).claim(job_id, owner, None)
    return job_id


def test_a_runner_of_this_process_space_whose_process_ended_is_taken_at_once(
    jobs: JobStore,
) -> None:
    owner = f"{os.uname().nodename}:{_dead_pid()}:0badf00d@{process_space()}"
    job_id = _claimed_by(jobs, owner)
    assert (job_id, owner) in JobLedger(jobs.store).claimable("me")


def test_a_runner_with_this_host_name_but_another_process_space_is_not_judged_by_pid(
    jobs: JobStore,
) -> None:
    """As on Cloud Run, where instances may share a host name: its pid means nothing here."""
    owner = f"{os.uname().nodename}:{_dead_pid()}:0badf00d@another0space"
    _claimed_by(jobs, owner)
    assert JobLedger(jobs.store).claimable("me") == []  # its heartbeat is fresh


def test_an_owner_that_names_no_process_space_waits_for_its_heartbeat(jobs: JobStore) -> None:
    owner = f"{os.uname().nodename}:{_dead_pid()}:0badf00d"
    _claimed_by(jobs, owner)
    assert JobLedger(jobs.store).claimable("me") == []


def test_on_cloud_run_no_owner_is_judged_by_pid() -> None:
    probe = (
        "from console.jobs._ledger import new_owner, process_space, _gone; "
        "owner = new_owner(); print(owner, process_space(), _gone(owner.split(':')[0] + ':1:x'))"
    )
    env = {**os.environ, "K_SERVICE": "lightonocr-console"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "@" not in out[0] and out[1:] == ["None", "False"]


def test_two_runners_in_one_process_have_distinct_owners() -> None:
    from console.jobs._ledger import new_owner

    assert new_owner() != new_owner()
