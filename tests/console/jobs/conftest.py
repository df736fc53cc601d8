"""Jobs against the real local OCR server (simulated engine) and a store in a tmp folder."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import httpx
import pypdfium2 as pdfium
import pytest

from console._store import Store
from console.jobs import JobRunner, JobStore, NewDocument
from ocr_core import ClientSettings, OCRClient
from tests.fakes.local_server import LocalServer, start_local_server
from tests.waits import wait_until as wait_until  # the jobs tests' waits


def make_pdf(pages: int) -> bytes:
    """A real PDF of `pages` blank pages, made by pdfium: quick to render, real to open."""
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(300, 400)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    # 0.3 s a page and 8 slots: slow enough to watch requests in flight, fast enough to finish.
    with start_local_server("--engine", "simulated", "--service-time", "0.3") as running:
        yield running


@pytest.fixture
def jobs(store: Store) -> JobStore:
    return JobStore(store)


@pytest.fixture
def runners(store: Store) -> Iterator[Callable[..., JobRunner]]:
    """Started runners on the test's store (a fresh client each); all stopped at the end."""
    made: list[JobRunner] = []

    def make(base_url: str, **client_options: object) -> JobRunner:
        options = {"concurrency": 8, "max_attempts": 1, "auth": "none", **client_options}
        settings = ClientSettings(base_url=base_url, **options)  # type: ignore[arg-type]
        runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()


def submit(jobs: JobStore, *documents: tuple[str, bytes], url: str = "") -> int:
    return jobs.create_job(
        [NewDocument(name, data) for name, data in documents], actor="qa", service_url=url
    )


def in_flight(base_url: str) -> int:
    """Requests the server holds now, running or waiting (its vLLM-named gauges)."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(("vllm:num_requests_running", "vllm:num_requests_waiting")):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)
