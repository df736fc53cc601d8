"""The console's own view of OCR failures: pages of jobs that failed, also before the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console._store import Store
from console.jobs import JobRunner, JobStore, NewDocument
from console.metrics._console_failures import CONSOLE_LABEL, SERVICE_ERRORS, console_failures
from console.platforms._base import MetricKey
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import make_pdf, wait_until
from tests.console.local_platform import free_port
from tests.fakes.local_server import LocalServer

HOUR = timedelta(hours=1)


def _run_job(store: Store, base_url: str, pages: int) -> None:
    """One job of a `pages`-page PDF through a real runner, to the end."""
    jobs = JobStore(store)
    job_id = jobs.create_job(
        [NewDocument("scan.pdf", make_pdf(pages))], actor="qa", service_url=base_url
    )
    settings = ClientSettings(base_url=base_url, auth="none", max_attempts=1)
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    try:
        assert wait_until(lambda: len(jobs.pages(job_id)) == pages and not jobs.job(job_id).active)
    finally:
        runner.stop()


@pytest.fixture
def server(simulated_server: LocalServer) -> LocalServer:
    return simulated_server  # the session's simulated server (tests/conftest.py)


def test_pages_refused_at_the_connection_count_as_failures_the_server_never_saw(
    store: Store,
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    _run_job(store, nobody, pages=3)
    seen = console_failures(store, nobody, since=datetime.now(UTC) - HOUR, bucket=HOUR / 60)
    assert (seen.pages, seen.failed, seen.rate) == (3, 3, 1.0)
    assert seen.never_reached == 3
    assert seen.by_kind == {"ServiceUnavailable": 3}
    line = seen.series()
    assert (line.key, line.label) == (MetricKey.ERROR_RATE, CONSOLE_LABEL)
    assert [value for _at, value in line.points] == [1.0]
    assert "3 failed (3 never got an answer from the server" in seen.summary("1 h")


def test_pages_the_server_answered_are_not_failures(store: Store, server: LocalServer) -> None:
    _run_job(store, server.base_url, pages=2)
    seen = console_failures(
        store, server.base_url, since=datetime.now(UTC) - HOUR, bucket=HOUR / 60
    )
    assert (seen.pages, seen.failed, seen.rate) == (2, 0, 0.0)
    assert seen.summary("1 h").endswith("; 0 failed.")


def test_only_the_given_service_and_window_are_counted(store: Store) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    _run_job(store, nobody, pages=1)
    other = console_failures(store, "http://elsewhere", since=datetime.now(UTC) - HOUR, bucket=HOUR)
    later = console_failures(store, nobody, since=datetime.now(UTC) + HOUR, bucket=HOUR)
    assert other.pages == later.pages == 0
    assert other.rate is None
    assert "sent no OCR page" in other.summary("1 h")


def test_a_store_without_any_job_reads_as_no_pages(store: Store) -> None:
    seen = console_failures(store, "http://x", since=datetime.now(UTC) - HOUR, bucket=HOUR)
    assert seen.pages == 0


def test_bad_input_is_not_an_ocr_failure_but_every_service_error_kind_is() -> None:
    assert {"ServiceUnavailable", "CircuitOpenError", "RequestTimeout", "ServerError"} <= (
        SERVICE_ERRORS
    )
    assert not {"CorruptDocument", "PageRenderError", "ResourceLimitExceeded"} & SERVICE_ERRORS
