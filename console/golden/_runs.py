"""Running a golden set: a job of its documents, then, once the job is done, its scores.

Two steps because the console's runner does the work between them: the Quality page starts
a run and scores it on a later rerun; the CLI starts one, runs a runner until the job ends,
and scores it at once. Either way the scores are stored with the revision that served the
pages (as the runner wrote it on them) and the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from console.golden._models import DEFAULT_MARGIN, GoldenRun, GoldenSetError
from console.golden._scoring import flag_regressions, score_job
from console.golden._store import GoldenStore
from console.jobs import JobStatus, JobStore, NewDocument, StoredPage
from ocr_core import ClientSettings

# The jobs list marks a golden run's job with this purpose.
GOLDEN_PURPOSE = "golden set"


def text_settings(settings: ClientSettings) -> dict[str, Any]:
    """What in the client's settings shapes a page's text (SETTING_NAMES): recorded with each
    run so `history` can say what changed between two runs."""
    return {
        "model": settings.model,
        "longest_side": settings.documents.longest_side,
        "server_page_size": settings.follow_server_page_size,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "rerun_runaway": settings.rerun_runaway,
    }


def observed_settings(pages: Sequence[StoredPage], revision: str | None) -> dict[str, Any]:
    """What the job's pages say they were read with: the page sizes sent and the revision."""
    sides = sorted(
        {max(p.result.width, p.result.height) for p in pages if p.result.width and p.result.height}
    )
    observed: dict[str, Any] = {"revision": revision}
    if sides:
        observed["longest_side_sent"] = (
            str(sides[0]) if len(sides) == 1 else f"{sides[0]}-{sides[-1]}"
        )
    return observed


def start_run(
    golden: GoldenStore,
    jobs: JobStore,
    name: str,
    *,
    service_url: str,
    revision: str | None,
    actor: str,
    margin: float = DEFAULT_MARGIN,
    settings: dict[str, Any] | None = None,
) -> int:
    """Queue the set's documents as a job and record the run with `settings` (what shapes
    the text, `text_settings`) and the set's contents; returns the run's id."""
    if not 0 <= margin < 1:
        raise GoldenSetError(f"the margin is an absolute CER rise between 0 and 1, not {margin}")
    found = golden.get(name)
    documents = golden.documents(found.id)
    job_id = jobs.create_job(
        [NewDocument(d.filename, d.data) for d in documents],
        actor=actor,
        service_url=service_url,
        revision=revision,
        name=name,
        purpose=GOLDEN_PURPOSE,
    )
    recorded = {**(settings or {}), "set_contents": golden.contents_digest(found.id)}
    return golden.add_run(
        found,
        job_id=job_id,
        service_url=service_url,
        revision=revision,
        actor=actor,
        margin=margin,
        settings=recorded,
    )


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
        pages = jobs.pages(job.id)
        served = {p.revision for p in pages if p.revision}
        revision = ", ".join(sorted(served)) if served else run.revision
        contents = run.settings.get("set_contents")
        previous = golden.previous_scored(run.set_name, run_id, contents)
        scores = flag_regressions(score_job(jobs, job.id, documents), previous, run.margin)
        settings = {**run.settings, **observed_settings(pages, revision)}
        golden.finish_run(run_id, scores, revision=revision, error=job.error, settings=settings)
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
