"""The sandbox: a task that breaches a limit fails alone, with the limit named."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocr_core import ResourceLimitExceeded
from ocr_core._sandbox import Sandbox, SandboxLimits
from tests.waits import eventually


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def spin(seconds: float) -> str:
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass
    return "done"


def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


def echo(value: str) -> str:
    return value


@pytest.fixture
def sandbox():
    box = Sandbox(SandboxLimits(memory_mb=256, cpu_seconds=2, wall_seconds=20, workers=2))
    yield box
    box.close()


def test_a_task_within_its_limits_returns_its_value(sandbox):
    assert sandbox.run(allocate, 64) == 64 * 1024 * 1024


def test_allocating_past_the_memory_limit_is_a_memory_breach(sandbox):
    with pytest.raises(ResourceLimitExceeded) as caught:
        sandbox.run(allocate, 1024)
    assert caught.value.limit == "memory"
    assert "256 MB" in str(caught.value)


def test_burning_cpu_past_the_budget_is_a_cpu_breach(sandbox):
    with pytest.raises(ResourceLimitExceeded) as caught:
        sandbox.run(spin, 60)
    assert caught.value.limit == "cpu"


def test_a_task_past_the_wall_time_is_a_time_breach():
    box = Sandbox(SandboxLimits(wall_seconds=1, workers=1))
    try:
        with pytest.raises(ResourceLimitExceeded) as caught:
            box.run(nap, 60)
        assert caught.value.limit == "time"
    finally:
        box.close()


def test_the_cpu_budget_is_per_task_not_per_worker_life(sandbox):
    # Three tasks of 1.2 s each on one worker would pass a lifetime cap of 2 s.
    box = Sandbox(SandboxLimits(cpu_seconds=2, workers=1))
    try:
        assert [box.run(spin, 1.2) for _ in range(3)] == ["done"] * 3
    finally:
        box.close()


def test_a_breach_leaves_the_sandbox_working(sandbox):
    with pytest.raises(ResourceLimitExceeded):
        sandbox.run(allocate, 1024)
    assert sandbox.run(echo, "still here") == "still here"


def test_a_hostile_task_does_not_hold_the_other_worker(sandbox):
    hostile = sandbox.submit(nap, 15)
    eventually(hostile.running, what="a worker taking the hostile task")  # pebble: acknowledged
    assert sandbox.result(sandbox.submit(echo, "next")) == "next"
    assert not hostile.done()
    hostile.cancel()


async def test_the_async_face_returns_and_translates(sandbox):
    assert await sandbox.arun(echo, "async") == "async"
    with pytest.raises(ResourceLimitExceeded):
        await sandbox.arun(allocate, 1024)


@pytest.mark.parametrize("field", ["memory_mb", "cpu_seconds", "wall_seconds", "workers"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_limits_must_be_positive_and_finite(field, value):
    with pytest.raises(ValueError, match=field):
        SandboxLimits(**{field: value})


def test_the_workers_never_run_the_callers_main_script(tmp_path, corpus):
    # A spawned process normally runs the parent's __main__ again: a backend script with no
    # main guard (or a Streamlit page) would then run, or fail to start, in every worker.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import ocr_core\n"
        "print('main ran')\n"
        f"data = open({str(corpus / 'pdf' / 'minimal-document.pdf')!r}, 'rb').read()\n"
        "with ocr_core.load_document(data) as document:\n"
        "    print('rendered', document.page(0).image.size)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("main ran") == 1
    assert "rendered (1089, 1540)" in done.stdout
