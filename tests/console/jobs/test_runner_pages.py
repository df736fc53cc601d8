"""How the runner sends pages: at the size the service asks for, with the sampling a person
chose for one page, and how long a document took once a failed page is read again."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

from PIL import Image

from console.jobs import JobRunner, JobStore
from console.jobs._results import document_result
from tests.console.jobs.conftest import submit, wait_until
from tests.fakes.fault_server import FaultServer, tiff_pages


def _finished(jobs: JobStore, job_id: int) -> bool:
    return not jobs.job(job_id).active


def _sent_sizes(server: FaultServer) -> list[tuple[int, int]]:
    sizes = []
    for request in server.chat_requests():
        uri = request.body["messages"][0]["content"][0]["image_url"]["url"]
        with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
            sizes.append(image.size)
    return sizes


def test_a_job_renders_pages_at_the_size_the_service_prefers(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    with FaultServer() as server:
        server.faults.preferred_longest_side = 800
        job_id = submit(jobs, ("two.tif", tiff_pages(["#ffffff", "#ff0000"], size=(300, 400))))
        runners(server.base_url)
        assert wait_until(lambda: _finished(jobs, job_id))
        assert jobs.job(job_id).pages_done == 2
        assert [max(size) for size in _sent_sizes(server)] == [800, 800]


def test_a_documents_time_counts_the_results_kept_not_the_wait_for_a_retry(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    with FaultServer() as server:
        server.faults.delay_s, server.faults.fail_colour = 0.5, "#ff0000"
        server.faults.fail_colour_status = 400
        job_id = submit(jobs, ("two.tif", tiff_pages(["#ffffff", "#ff0000"])))
        runner = runners(server.base_url)
        assert wait_until(lambda: _finished(jobs, job_id))
        assert jobs.job(job_id).pages_failed == 1
        time.sleep(1.0)  # QA read the failure, then retried it
        server.faults.fail_colour = None
        jobs.retry_pages(job_id)
        runner.wake()
        assert wait_until(lambda: _finished(jobs, job_id) and jobs.job(job_id).pages_done == 2)
    [document] = jobs.documents(job_id)
    pages = jobs.pages(job_id)
    result = document_result(document, pages)
    assert result.ok
    reading = sum((p.finished_at - p.started_at).total_seconds() for p in pages)
    # The failed first answer and the second between runs are not part of it.
    assert 0 < result.wall_time_s <= reading + 1e-6
