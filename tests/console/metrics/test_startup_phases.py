"""Cold-start phases from real log lines (vLLM 0.11.2's messages, Cloud Run's, ours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.metrics._startup_phases import marks_from_log, phase_table, phases

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# The lines a vLLM 0.11.2 cold start on Cloud Run writes, with their entry timestamps.
VLLM_COLD_START = [
    (at(4), "Starting new instance. Reason: AUTOSCALING - Instance started due to traffic."),
    (at(9), "INFO 11-29 09:00:09 [api_server.py:1977] vLLM API server version 0.11.2"),
    (
        at(21),
        "(EngineCore_DP0 pid=212) INFO 11-29 09:00:21 [gpu_model_runner.py:3260] "
        "Starting to load model lightonai/LightOnOCR-2-1B...",
    ),
    (
        at(30),
        "(EngineCore_DP0 pid=212) INFO 11-29 09:00:30 [default_loader.py:315] "
        "Loading weights took 6.12 seconds",
    ),
    (
        at(31),
        "(EngineCore_DP0 pid=212) INFO 11-29 09:00:31 [gpu_model_runner.py:3339] "
        "Model loading took 1.9 GiB memory and 9.41 seconds",
    ),
    (
        at(75),
        "(EngineCore_DP0 pid=212) INFO 11-29 09:01:15 [gpu_model_runner.py:4245] "
        "Graph capturing finished in 12 secs, took 0.31 GiB",
    ),
    (
        at(78),
        "(EngineCore_DP0 pid=212) INFO 11-29 09:01:18 [core.py:251] init engine "
        "(profile, create kv cache, warmup model) took 46.70 seconds",
    ),
    (
        at(80),
        "(APIServer pid=1) INFO 11-29 09:01:20 [api_server.py:2053] "
        "Starting vLLM API server 0 on http://0.0.0.0:8000",
    ),
]


def test_a_vllm_cold_start_is_split_at_each_of_its_lines():
    marks = marks_from_log(VLLM_COLD_START, since=at(0), until=at(200))
    marks |= {"sent": at(0), "model_listed": at(82), "answered": at(85)}
    assert [(p.name, p.seconds) for p in phases(marks)] == [
        ("instance scheduled", 4),
        ("container start", 5),
        ("engine setup", 12),
        ("weights loaded", 10),
        ("compile + CUDA graphs", 44),
        ("KV cache + warm-up", 3),
        ("API server start", 2),
        ("first health check", 2),
        ("first OCR answer", 3),
    ]


def test_the_local_server_gives_fewer_longer_phases():
    local = [
        (at(1), "Started server process [4242]"),
        (at(1.2), "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"),
        (at(3.5), "engine ready in 2.30 s"),
    ]
    marks = marks_from_log(local, since=at(0), until=at(10))
    marks |= {"sent": at(0), "model_listed": at(3.6), "answered": at(4)}
    names = [p.name for p in phases(marks)]
    # Uvicorn listens before our engine is ready: that mark is older, so it is dropped.
    assert names == [
        "instance scheduled",
        "container start",
        "KV cache + warm-up",
        "first health check",
        "first OCR answer",
    ]


def test_lines_outside_the_warm_up_window_are_ignored():
    marks = marks_from_log(VLLM_COLD_START, since=at(25), until=at(76))
    assert set(marks) == {"instance", "weights_loaded", "graphs_captured"}
    assert marks["instance"] == at(30)  # no new-instance line: the first line stands in


def test_a_mark_earlier_than_the_one_before_is_never_a_negative_bar():
    marks = {"sent": at(10), "instance": at(5), "answered": at(20)}
    assert [(p.name, p.seconds) for p in phases(marks)] == [("first OCR answer", 10)]


def test_the_phase_table_lines_up_warm_ups_by_phase_name():
    first = phases({"sent": at(0), "listening": at(50), "answered": at(60)})
    second = phases({"sent": at(0), "listening": at(70), "answered": at(75)})
    assert phase_table([first, second]) == [
        {"API server start": 50, "first OCR answer": 10},
        {"API server start": 70, "first OCR answer": 5},
    ]
