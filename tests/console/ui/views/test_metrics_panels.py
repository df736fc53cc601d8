"""The Metrics page's panels beside the charts: the console's own failures, the cost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from console._store import Store
from console.jobs import JobRunner, JobStore, NewDocument
from console.metrics._console_failures import CONSOLE_LABEL
from console.service import Operations
from console.ui._state import install_operations
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import make_pdf, wait_until
from tests.console.ui.views.console_ops import installed_operations, page, text_of
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes

ERROR_RATE = "Error rate"
COMBINED = "Instances beside vLLM's queue"


def _body(at: AppTest) -> list[Any]:
    """The auto-refreshing fragment's elements, in page order."""
    return list(list(at.main.children.values())[-1].children.values())


def _under(at: AppTest, title: str) -> list[Any]:
    """The elements in the block under the subheader `title` (notes, then the chart)."""
    body = _body(at)
    position = next(i for i, c in enumerate(body) if text_of(c) == title)
    return list(body[position + 1].children.values())


def _notes_under(at: AppTest, title: str) -> list[str]:
    return [text_of(c) or "" for c in _under(at, title)]


def test_pages_that_never_reached_the_server_show_in_the_error_rate(tmp_path: Path) -> None:
    # The server is stopped (floor 0): every page is refused at the connection, so the
    # server counted no 5xx, and the console must not read 0 %.
    with installed_operations(tmp_path, default_floor=0) as operations:
        url = operations.platform.service_url
        jobs = JobStore(operations.store)
        job_id = jobs.create_job([NewDocument("a.pdf", make_pdf(2))], actor="qa", service_url=url)
        settings = ClientSettings(base_url=url, auth="none", max_attempts=1)
        runner = JobRunner(operations.store, lambda: OCRClient(settings=settings), poll_s=0.1)
        runner.start()
        try:
            assert wait_until(lambda: len(jobs.pages(job_id)) == 2)
        finally:
            runner.stop()
        at = page("metrics").run()
        assert not at.exception
        notes = _notes_under(at, ERROR_RATE)
        assert any(
            "2 OCR page(s) in the last 1 h; 2 failed (2 never got an answer" in n for n in notes
        )
        assert any(CONSOLE_LABEL in n and "100%" in n for n in notes)  # the runbook's hint
        chart = next(c for c in _under(at, ERROR_RATE) if c.type == "vega_lite_chart")
        assert CONSOLE_LABEL.encode() in b"".join(d.data.data for d in chart.proto.datasets)


def test_a_console_with_no_job_says_it_sent_no_page(operations: Operations) -> None:
    at = page("metrics").run()
    assert any("sent no OCR page" in n for n in _notes_under(at, ERROR_RATE))


def test_the_local_platform_explains_that_there_is_no_bill(operations: Operations) -> None:
    at = page("metrics").run()
    assert any("no bill" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label.startswith("Instance time")]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[CloudFakes, Operations]]:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        install_operations(operations)
        try:
            yield cloud, operations
        finally:
            install_operations(None)
            operations.close()  # with the vLLM sampler the page's metrics read started


def test_cloud_run_cost_is_priced_from_the_instance_count(
    cloud: tuple[CloudFakes, Operations], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fakes, operations = cloud
    monkeypatch.setenv("LIGHTONOCR_RATE_GPU_S", "0.001")
    monkeypatch.setenv("LIGHTONOCR_CURRENCY", "EUR")
    at = page("metrics").run()
    assert not at.exception
    expected = operations.cost(timedelta(hours=1))
    assert expected is not None and expected.instance_seconds > 0
    shown = {m.label: m.value for m in at.metric}
    assert shown["Instance time, last 1 h"] == f"{expected.cost:,.2f} EUR"
    assert "Pages per EUR" in shown
    # The seeded hour answers requests every minute: nothing idle.
    assert shown["Idle (instances up, no request)"] == "0.00 EUR"
    # Cross-checked against Cloud Run's own count of billable instance time (issue 31).
    assert any("Cloud Run's billable instance time: 1.12 h" in c.value for c in at.caption)


def test_instances_and_vllms_gauges_share_one_chart(operations: Operations) -> None:
    operations.platform.sample_once()
    operations.platform.sample_once()
    at = page("metrics").run()
    assert not at.exception
    chart = next(c for c in _under(at, COMBINED) if c.type == "vega_lite_chart")
    frame = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    assert {"instances", "vLLM requests", "KV cache usage"} <= set(frame["panel"])
    assert {"vLLM waiting (queue)", "vLLM running"} <= set(frame["line"])
    assert json.loads(chart.proto.spec)["resolve"]["scale"]["y"] == "independent"


def test_without_vllm_samples_the_chart_says_when_they_are_scraped(
    operations: Operations,
) -> None:
    at = page("metrics").run()
    assert any("never keeps a GPU awake" in n for n in _notes_under(at, COMBINED))
