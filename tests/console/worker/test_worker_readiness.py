"""A worker takes jobs once its service is ready: a restarted console's local server answers
503 while its engine loads, and pages sent then would only fail on it."""

from __future__ import annotations

from pathlib import Path

from console.jobs import JobStatus, JobStore
from console.runtime import Runtime
from console.service import Operations
from console.worker import Worker
from tests.console.jobs.conftest import make_pdf, submit
from tests.console.local_platform import local_platforms
from tests.fakes.fault_server import FaultServer
from tests.waits import wait_until


def _health_probes(server: FaultServer) -> int:
    return sum(1 for request in server.requests if request.path == "/health")


def test_a_worker_takes_no_job_while_its_service_is_loading(tmp_path: Path) -> None:
    with FaultServer() as server, local_platforms(tmp_path) as make:
        server.go_cold(3600)  # /health (and everything else) 503 until told otherwise
        port = int(server.base_url.rsplit(":", 1)[1])
        platform = make(port=port, default_floor=0)  # the server on the port, loading
        operations = Operations(platform, platform.store, actor="qa")
        jobs = JobStore(platform.store)
        worker = Worker(Runtime(operations), poll_s=0.05).start()
        try:
            job_id = submit(jobs, ("two.pdf", make_pdf(2)))
            probes = _health_probes(server)
            # The worker looks at the service before each claim: many looks, no claim.
            assert wait_until(
                lambda: _health_probes(server) >= probes + 20 or server.chat_requests()
            )
            assert server.chat_requests() == []
            assert jobs.job(job_id).status is JobStatus.QUEUED

            server.faults.cold_until = 0.0  # the engine is up
            assert wait_until(lambda: not jobs.job(job_id).active)
        finally:
            worker.stop()
    job = jobs.job(job_id)
    assert (job.status, job.pages_done, job.pages_failed) == (JobStatus.DONE, 2, 0)
    assert [page.result.attempts for page in jobs.pages(job_id)] == [1, 1]
