"""Running a golden set: a job of its documents, then, once the job is done, its scores.

Two steps because the console's runner does the work between them: the Quality page starts
a run and scores it on a later rerun; the CLI starts one, runs a runner until the job ends,
and scores it at once. Either way the scores are stored with the revision that served the
pages (as the runner wrote it on them) and the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from console.golden._models import DEFAULT_MARGIN, GoldenRun, GoldenSetError
from console.golden._scoring import flag_regressions, score_job
from console.golden._store import GoldenStore
from console.jobs import JobStatus, JobStore, NewDocument


def start_run(
    golden: GoldenStore,
    jobs: JobStore,
    name: str,
    *,
    service_url: str,
    revision: str | None,
    actor: str,
    margin: float = DEFAULT_MARGIN,
) -> int:
    """Queue the set's documents as a job and record the run; returns the run's id."""
    if not 0 <= margin < 1:
        raise GoldenSetError(f"the margin is an absolute CER rise between 0 and 1, not {margin}")
    found = golden.get(name)
    documents = golden.documents(found.id)
    job_id = jobs.create_job(
        [NewDocument(d.filename, d.data) for d in documents],
        actor=actor,
        service_url=service_url,
        revision=revision,
    )
    return golden.add_run(
        found, job_id=job_id, service_url=service_url, revision=revision, actor=actor,
        margin=margin,
    )  # fmt: skip


def finish_run(golden: GoldenStore, jobs: JobStore, run_id: int) -> GoldenRun:
    """Score the run if its job has ended (else return it unscored); idempotent."""
    run = golden.run(run_id)
    if run is None:
        raise GoldenSetError(f"no golden run {run_id}")
    if run.scored:
        return run
    job = jobs.job(run.job_id)
    if job is None:
        golden.finish_run(run_id, [], revision=run.revision, error="its job is gone (pruned)")
    elif job.active:
        return run
    elif job.status is JobStatus.CANCELLED:
        golden.finish_run(run_id, [], revision=run.revision, error="its job was cancelled")
    else:
        documents = golden.documents(golden.get(run.set_name).id)
        served = {p.revision for p in jobs.pages(job.id) if p.revision}
        revision = ", ".join(sorted(served)) if served else run.revision
        previous = golden.previous_scored(run.set_name, run_id)
        scores = flag_regressions(score_job(jobs, job.id, documents), previous, run.margin)
        golden.finish_run(run_id, scores, revision=revision, error=job.error)
    finished = golden.run(run_id)
    assert finished is not None
    return finished


def wait_for_run(
    golden: GoldenStore,
    jobs: JobStore,
    run_id: int,
    *,
    timeout_s: float = 3600.0,
    poll_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> GoldenRun:
    deadline = time.monotonic() + timeout_s
    while True:
        run = finish_run(golden, jobs, run_id)
        if run.scored:
            return run
        if time.monotonic() > deadline:
            raise GoldenSetError(f"golden run {run_id} not finished after {timeout_s:.0f} s")
        sleep(poll_s)
