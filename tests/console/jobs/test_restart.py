"""A runner killed mid-job (SIGKILL, no goodbye) loses nothing: the next one finishes the job
with every page exactly once and the pages finished before the kill untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from console.jobs import JobRunner, JobStatus, JobStore
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[3]

RUNNER = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from console._store import Store
    from console.jobs import JobRunner
    from ocr_core import ClientSettings, OCRClient

    store = Store.in_dir(Path(sys.argv[1]))
    settings = ClientSettings(base_url=sys.argv[2], auth="none", max_attempts=1)
    JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    print("running", flush=True)
    threading.Event().wait()
    """
)


def test_a_killed_runner_s_job_completes_with_every_page_once(
    tmp_path: Path, jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = submit(jobs, ("long.pdf", make_pdf(80)), ("short.pdf", make_pdf(5)))
    child = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(tmp_path), server.base_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"running"
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 10)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    before = {(page.document_id, page.index): page.finished_at for page in jobs.pages(job_id)}
    assert jobs.job(job_id).status is JobStatus.RUNNING  # as the dead runner left it
    assert len(before) < 85

    runners(server.base_url)  # the console starting again
    assert wait_until(lambda: jobs.job(job_id).status is JobStatus.DONE)
    pages = jobs.pages(job_id)
    keys = [(page.document_id, page.index) for page in pages]
    assert len(keys) == len(set(keys)) == 85
    assert all(
        page.finished_at == before[key]
        for key, page in zip(keys, pages, strict=True)
        if key in before
    )
