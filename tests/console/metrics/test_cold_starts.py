"""Each warm-up keeps its timeline: the local server's real start, and a Cloud Run cold start
whose vLLM 0.11.2 lines come from (fake) Cloud Logging through the real client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from console._store import Store
from console.metrics._cold_starts import ColdStarts
from console.service import Operations
from tests.console.local_platform import local_platforms
from tests.console.platforms.test_cloudrun_warm_up import TOKEN, Minter
from tests.fakes.cloud import cloudrun_platform_with_fakes
from tests.fakes.fault_server import FaultServer
from tests.fakes.google_logging import entry

# vLLM 0.11.2's own startup lines (format strings checked in the wheel: api_server.py,
# gpu_model_runner.py, core.py), in the order a cold start writes them, seconds after start.
VLLM_LINES = [
    (1.5, "Starting new instance. Reason: AUTOSCALING - Instance started due to traffic."),
    (
        1.7,
        "(APIServer pid=1) INFO 11-29 09:00:09 [api_server.py:1977] vLLM API server version 0.11.2",
    ),
    (
        1.9,
        "(EngineCore_DP0 pid=212) INFO 11-29 09:00:21 [gpu_model_runner.py:3260] Starting to "
        "load model lightonai/LightOnOCR-2-1B...",
    ),
    (
        2.1,
        "(EngineCore_DP0 pid=212) INFO 11-29 09:00:31 [gpu_model_runner.py:3339] Model "
        "loading took 1.9000 GiB memory and 9.410000 seconds",
    ),
    (
        2.3,
        "(EngineCore_DP0 pid=212) INFO 11-29 09:01:15 [gpu_model_runner.py:4245] Graph "
        "capturing finished in 12 secs, took 0.31 GiB",
    ),
    (
        2.5,
        "(EngineCore_DP0 pid=212) INFO 11-29 09:01:18 [core.py:251] init engine (profile, "
        "create kv cache, warmup model) took 46.70 seconds",
    ),
    (
        2.7,
        "(APIServer pid=1) INFO 11-29 09:01:20 [api_server.py:2053] Starting vLLM API server "
        "0 on http://0.0.0.0:8000",
    ),
]
LOG_MARKS = [
    "instance",
    "process",
    "weights_start",
    "weights_loaded",
    "graphs_captured",
    "engine_ready",
    "listening",
]


def test_a_local_cold_start_records_its_marks_from_the_server_log(tmp_path: Path) -> None:
    with local_platforms(tmp_path) as make:
        platform = make()  # floor 0: the warm-up has to start the server
        operations = Operations(platform, platform.store, actor="qa")
        record = operations.warm_up(timeout_s=60)
        assert record.cold, record.error
        [cold] = operations.cold_starts()
    marks = cold.marks
    # The local server writes uvicorn's and its engine's lines, no CUDA graphs.
    assert {"sent", "instance", "process", "engine_ready", "model_listed", "answered"} <= set(marks)
    order = ["sent", "process", "engine_ready", "model_listed", "answered"]
    assert [marks[m] for m in order] == sorted(marks[m] for m in order)
    assert "graphs_captured" not in marks
    names = [p.name for p in cold.phases]
    assert names[-1] == "first OCR answer"
    total = sum(p.seconds for p in cold.phases)
    assert total == pytest.approx((marks["answered"] - marks["sent"]).total_seconds())
    assert total <= record.seconds + 1.0


def test_a_warm_service_keeps_only_the_warm_ups_own_marks(tmp_path: Path) -> None:
    with local_platforms(tmp_path) as make:
        platform = make(default_floor=1)
        operations = Operations(platform, platform.store, actor="qa")
        assert operations.warm_up(timeout_s=60).ready
        warm = operations.warm_up(timeout_s=60)
        assert warm.ready and not warm.cold
        [timeline] = ColdStarts(platform.store).timelines([operations.warm_up_history(1)[0]])
    assert set(timeline.marks) <= {"sent", "model_listed", "answered"}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.faults.accept_tokens = {TOKEN}
        yield running


def test_a_cloud_run_cold_start_is_split_at_vllms_lines_read_from_cloud_logging(
    server: FaultServer, tmp_path: Path
) -> None:
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=Minter()
    ) as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        # The lines come 1.5 s into a 4 s cold start: after the warm-up's first request even
        # on a loaded machine.
        start = datetime.now(UTC)
        cloud.logging.push(
            *(
                entry(
                    text,
                    at=start + timedelta(seconds=s),
                    severity="DEFAULT",
                    revision=cloud.revision,
                )
                for s, text in VLLM_LINES
            )
        )
        server.go_cold(4.0)
        record = operations.warm_up(timeout_s=20)
        assert record.cold, record.error
        [cold] = operations.cold_starts()
    marks = cold.marks
    for mark, (offset, _text) in zip(LOG_MARKS, VLLM_LINES, strict=True):
        assert marks[mark] == start + timedelta(seconds=offset), mark  # the entry's timestamp
    assert marks["sent"] <= marks["instance"]
    assert marks["model_listed"] >= marks["listening"]
    assert [p.name for p in cold.phases] == [
        "instance scheduled",
        "container start",
        "engine setup",
        "weights loaded",
        "compile + CUDA graphs",
        "KV cache + warm-up",
        "API server start",
        "first health check",
    ]


def test_an_unreadable_log_still_records_the_warm_up_and_its_own_marks(
    server: FaultServer, tmp_path: Path
) -> None:
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=Minter()
    ) as cloud:
        cloud.logging.fail("ListLogEntries", grpc.StatusCode.PERMISSION_DENIED)
        server.go_cold(1.0)
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        record = operations.warm_up(timeout_s=20)
        assert record.cold, record.error
        [cold] = operations.cold_starts()
    assert set(cold.marks) == {"sent", "model_listed"}


def test_marks_that_reach_cloud_logging_after_the_warm_up_still_make_its_phases(
    server: FaultServer, tmp_path: Path
) -> None:
    with cloudrun_platform_with_fakes(
        service_url=server.base_url, seed=False, id_token_fetcher=Minter()
    ) as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        start = datetime.now(UTC)
        server.go_cold(4.0)
        record = operations.warm_up(timeout_s=20)
        assert record.cold, record.error
        [before] = operations.cold_starts()
        # Logging ingests the cold start's lines late: they arrive after the warm-up ended,
        # stamped with when they were written.
        cloud.logging.push(
            *(
                entry(
                    text,
                    at=start + timedelta(seconds=s),
                    severity="DEFAULT",
                    revision=cloud.revision,
                )
                for s, text in VLLM_LINES
            )
        )
        added = operations.reread_cold_starts()
        [after] = operations.cold_starts()
    assert not any(mark in before.marks for mark in LOG_MARKS)
    assert added == len(LOG_MARKS)
    assert "weights loaded" in [phase.name for phase in after.phases]
