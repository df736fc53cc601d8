"""The server as operators and the console see it: cold start, metrics, slots, logs, CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gpu_image.serve_config import vllm_command
from ocr_core.server._vllm import command
from tests.fakes.local_server import LocalServer, start_local_server
from tests.waits import eventually, log_records, logged

from ._requests import MODEL, blank_page, chat_body

LABELS = {"model_name": MODEL, "engine": "0"}


def parse(text: str) -> dict[str, list[Sample]]:
    """Samples by sample name (`..._total`, `..._count`), parsed by prometheus_client."""
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def metric_samples(base_url: str) -> dict[str, list[Sample]]:
    return parse(httpx.get(f"{base_url}/metrics", timeout=10).text)


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    wanted = {**LABELS, **labels}
    return sum(s.value for s in samples.get(name, []) if wanted.items() <= s.labels.items())


def test_health_is_503_during_the_startup_delay_then_200() -> None:
    with start_local_server("--engine", "simulated", "--startup-delay", "2", wait=False) as server:
        assert httpx.get(f"{server.base_url}/health").status_code == 503
        refused = httpx.post(f"{server.base_url}/v1/chat/completions", json=chat_body(blank_page()))
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == 503
        eventually(
            lambda: httpx.get(f"{server.base_url}/health").status_code == 200,
            what="/health says 200",
        )
        [ready] = logged(server.log_text, lambda r: r["message"].startswith("engine ready in"))
    # The server's own measure of its cold start includes the whole delay (not the test's
    # clock, which starts late by however long the port took to open).
    assert ready["ready_s"] >= 1.9


def test_metrics_use_vllm_names_and_counters_move_after_a_request(
    simulated_server: LocalServer,
) -> None:
    before = metric_samples(simulated_server.base_url)
    body = chat_body(blank_page(), max_tokens=2)
    httpx.post(f"{simulated_server.base_url}/v1/chat/completions", json=body, timeout=30)
    after = metric_samples(simulated_server.base_url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vllm:request_success_total", finished_reason="length") == 1
    assert moved("vllm:generation_tokens_total") == 2
    assert moved("vllm:prompt_tokens_total") > 0
    for histogram in (
        "vllm:time_to_first_token_seconds",
        "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds",
        "vllm:request_inference_time_seconds",
    ):
        assert moved(f"{histogram}_count") == 1, histogram
    assert value(after, "vllm:request_inference_time_seconds_sum") >= 0.05
    for gauge in ("vllm:num_requests_running", "vllm:num_requests_waiting"):
        assert value(after, gauge) == 0
    assert value(after, "vllm:kv_cache_usage_perc") == 0


def test_metrics_include_the_process_memory(simulated_server: LocalServer) -> None:
    samples = metric_samples(simulated_server.base_url)
    [rss] = samples["process_resident_memory_bytes"]
    assert rss.value > 10_000_000


async def test_requests_beyond_max_num_seqs_wait_and_all_complete() -> None:
    service_time = 0.4
    with start_local_server(
        "--engine", "simulated", "--service-time", str(service_time), "--max-num-seqs", "2"
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            seen: list[tuple[float, float]] = []

            async def watch() -> None:
                while True:
                    samples = parse((await client.get("/metrics")).text)
                    seen.append(
                        (
                            value(samples, "vllm:num_requests_running"),
                            value(samples, "vllm:num_requests_waiting"),
                        )
                    )
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(watch())
            started = time.monotonic()
            responses = await asyncio.gather(
                *(
                    client.post("/v1/chat/completions", json=chat_body(blank_page()))
                    for _ in range(6)
                )
            )
            elapsed = time.monotonic() - started
            watcher.cancel()
    assert [r.status_code for r in responses] == [200] * 6
    assert max(running for running, _ in seen) == 2
    assert max(waiting for _, waiting in seen) >= 1
    # Three waves of two. A floor, not a speed: two slots cannot serve six 0.4 s requests in
    # less than 1.2 s however fast the machine is, and load only adds to it.
    assert elapsed >= 3 * service_time * 0.95


def test_every_log_line_is_one_json_object_with_the_shared_fields(
    simulated_server: LocalServer,
) -> None:
    httpx.post(
        f"{simulated_server.base_url}/v1/chat/completions",
        json=chat_body(blank_page()),
        headers={"Authorization": "Bearer sekrit-token-123", "X-Request-Id": "shared-fields-1"},
        timeout=30,
    )
    logged(
        simulated_server.log_text,
        lambda r: r.get("x_request_id") == "shared-fields-1" and r["logger"] == "uvicorn.access",
    )
    records = log_records(simulated_server.log_text())
    for record in records:
        assert {"time", "severity", "logger", "message"} <= record.keys(), record
        assert record["time"].endswith("Z")
        datetime.fromisoformat(record["time"])
        assert record["severity"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    loggers = {r["logger"] for r in records}
    assert {"ocr_core.server", "uvicorn.access"} <= loggers
    assert any(r["message"].startswith("engine ready in") for r in records)
    done = [r for r in records if r["message"].startswith("chat completion ")]
    assert done and {"latency_s", "prompt_tokens", "completion_tokens"} <= done[-1].keys()
    assert "sekrit-token-123" not in simulated_server.log_text()


def test_successful_health_and_metrics_probes_stay_out_of_the_access_log() -> None:
    with start_local_server("--engine", "simulated", "--service-time", "0") as server:
        for _ in range(3):
            assert httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200
            assert httpx.get(f"{server.base_url}/metrics", timeout=10).status_code == 200
        assert httpx.get(f"{server.base_url}/v1/models", timeout=10).status_code == 200
        # The access line is written after the response is sent: the last request's line
        # has come when the probes' lines would have.
        logged(
            server.log_text,
            lambda r: r["logger"] == "uvicorn.access" and "/v1/models" in r["message"],
        )
        access = [
            record["message"]
            for record in log_records(server.log_text())
            if record["logger"] == "uvicorn.access"
        ]
    assert any("/v1/models" in message for message in access)
    assert not any("/health" in message or "/metrics" in message for message in access)


def test_failed_requests_are_logged_at_warning_or_error_by_status_class() -> None:
    with start_local_server("--engine", "simulated", "--service-time", "0") as server:
        assert httpx.get(f"{server.base_url}/nowhere", timeout=10).status_code == 404
        bad = httpx.post(f"{server.base_url}/v1/chat/completions", json={}, timeout=10)
        assert bad.status_code == 400
        # The access lines are written after the responses are sent.
        access = {
            record["message"]: record["severity"]
            for record in logged(
                server.log_text,
                lambda r: (
                    r["logger"] == "uvicorn.access"
                    and ("/nowhere" in r["message"] or "/v1/chat" in r["message"])
                ),
                count=2,
            )
        }
    [missing] = [severity for message, severity in access.items() if "/nowhere" in message]
    [rejected] = [severity for message, severity in access.items() if "/v1/chat" in message]
    assert (missing, rejected) == ("WARNING", "WARNING")


def test_requests_refused_while_the_engine_loads_are_logged_as_errors() -> None:
    with start_local_server("--engine", "simulated", "--startup-delay", "30", wait=False) as server:
        refused = httpx.post(
            f"{server.base_url}/v1/chat/completions", json=chat_body(blank_page()), timeout=10
        )
        assert refused.status_code == 503
        severities = [  # the access line is written after the response is sent
            record["severity"]
            for record in logged(
                server.log_text,
                lambda r: r["logger"] == "uvicorn.access" and "/v1/chat" in r["message"],
            )
        ]
    assert severities == ["ERROR"]


def test_the_vllm_engine_command_comes_from_serve_config() -> None:
    assert command(8123, "127.0.0.1") == vllm_command(8123, "127.0.0.1")


def test_a_custom_served_name_is_passed_to_vllm_as_an_alias_of_the_same_model() -> None:
    argv = command(8123, "127.0.0.1", "ocr")
    assert argv[: len(vllm_command(8123, "127.0.0.1"))] == vllm_command(8123, "127.0.0.1")
    assert argv[-2:] == ["--served-model-name", "ocr"]


def test_engine_vllm_without_vllm_installed_exits_with_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ocr_core.server", "--engine", "vllm", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [record] = [json.loads(line) for line in result.stderr.splitlines() if line]
    assert record["severity"] == "ERROR"
    assert "vllm" in record["message"] and "not installed" in record["message"]


def test_an_impossible_setting_exits_with_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ocr_core.server", "--max-num-seqs", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "max_num_seqs" in result.stderr


def test_an_engine_that_cannot_load_stops_the_server_with_a_critical_line() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocr_core.server",
            "--engine",
            "simulated",
            "--service-time",
            "-1",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    records = [json.loads(line) for line in result.stderr.splitlines() if line]
    critical = [r for r in records if r["severity"] == "CRITICAL"]
    assert critical and "service_time" in critical[0]["message"]
