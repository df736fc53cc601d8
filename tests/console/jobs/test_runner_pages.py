"""How the runner sends pages: at the size the service asks for, with the sampling a person
chose for one page, and how long a document took once a failed page is read again."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

from PIL import Image

from console.jobs import JobRunner, JobStore
from console.jobs._in_flight import PageInFlight, in_flight
from console.jobs._results import document_result
from console.ui._workbench import in_flight_caption
from ocr_core import Sampling
from tests.console.jobs.conftest import submit, wait_until
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import tiff_pages


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


def test_a_page_is_read_again_with_the_sampling_a_person_chose(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    with FaultServer() as server:
        job_id = submit(jobs, ("two.tif", tiff_pages(["#ffffff", "#ff0000"])))
        runner = runners(server.base_url)
        assert wait_until(lambda: _finished(jobs, job_id))
        [document] = jobs.documents(job_id)
        chosen = Sampling(temperature=0.9, repetition_penalty=1.3, max_tokens=500)
        assert jobs.retry_pages(job_id, [(document.id, 1)], sampling=chosen) == 1
        runner.wake()
        assert wait_until(lambda: len(server.chat_requests()) == 3 and _finished(jobs, job_id))
        first, _, again = (request.body for request in server.chat_requests())
    assert (again["temperature"], again["repetition_penalty"], again["max_tokens"]) == (
        0.9,
        1.3,
        500,
    )
    assert first["temperature"] != 0.9 and "repetition_penalty" not in first
    kept, asked_again = jobs.pages(job_id)
    assert kept.sampling is None and asked_again.sampling == chosen
    assert asked_again.result.text == "page #ff0000"
    assert asked_again.to_dict()["sampling"] == {
        "temperature": 0.9,
        "repetition_penalty": 1.3,
        "max_tokens": 500,
    }


def test_the_job_counts_its_pages_asked_again_after_a_runaway_answer(
    jobs: JobStore, runners: Callable[..., JobRunner]
) -> None:
    with FaultServer() as server:
        server.script("loop")
        job_id = submit(jobs, ("two.tif", tiff_pages(["#ffffff", "#ff0000"])))
        runners(server.base_url, concurrency=1)
        assert wait_until(lambda: _finished(jobs, job_id))
    job = jobs.job(job_id)
    assert (job.pages_done, job.pages_rerun) == (2, 1)
    assert job.to_dict()["pages_rerun"] == 1


def test_pages_in_flight_and_their_retries_are_written_for_the_workbench(
    runners: Callable[..., JobRunner], jobs: JobStore
) -> None:
    with FaultServer() as server:
        server.faults.delay_s = 2.0  # long enough to be seen in flight
        server.script("503")  # the first request fails: that page is retried
        runner = runners(server.base_url, max_attempts=3, concurrency=1)
        job_id = submit(jobs, ("two.tif", tiff_pages(["#ff0000", "#00ff00"])), url=server.base_url)
        seen: list[PageInFlight] = []

        def retrying() -> bool:
            seen[:] = in_flight(jobs.store, job_id)
            return any(page.retrying for page in seen)

        assert wait_until(retrying, timeout_s=60)
        [page] = [p for p in seen if p.attempt > 0]  # one slot: one page sent
        assert page.attempt == 2 and page.why is not None and "ServiceUnavailable" in page.why
        text = in_flight_caption([page], now=page.since + 65)
        assert text is not None and text.startswith("1 in flight, the oldest for 1 min 05 s")
        assert "1 retrying (page 1, attempt 2, after ServiceUnavailable" in text
        assert wait_until(lambda: _finished(jobs, job_id), timeout_s=60)
        assert wait_until(lambda: in_flight(jobs.store, job_id) == [], timeout_s=10)
        assert runner.jobs.job(job_id).pages_done == 2


def test_pages_not_sent_yet_are_said_apart_from_those_sent() -> None:
    pages = [PageInFlight(1, 0, 100.0, 1), PageInFlight(1, 1, 101.0, 0)]
    text = in_flight_caption(pages, now=110.0)
    assert text == (
        "2 in flight, the oldest for 10 s · 1 not sent yet (being rendered, or waiting for a slot)"
    )
