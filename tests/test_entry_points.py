"""Every command line answers `--help` with its usage (exit 0) and a bad argument with its
usage on stderr (exit 2), before it starts anything (issue 31, item 11: `python -m
console.worker --help` used to start a worker). Run as a person runs them: `python -m`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = [
    "console",
    "console.worker",
    "console.jobs",
    "console.golden",
    "console.review",
    "console.migrations",
    "console.bench_footprint",
    "console.jobs.bench",
    "console.jobs.bench_lanes",
    "console.jobs.bench_uploads",
    "console.jobs.bench_words",
    "deploy",
    "ocr_core.server",
    "ocr_core.bench",
    "ocr_core.bench.exports",
    "ocr_core.bench.locate",
    "ocr_core.bench.memory",
    "gpu_image.entrypoint",
    "gpu_image.serve_config",
]


def _run(module: str, argument: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # Nowhere real: a command that started anything would touch only this folder.
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_LOCAL_PORT": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", module, argument],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_help_prints_the_usage_and_exits_0(module: str, tmp_path: Path) -> None:
    done = _run(module, "--help", tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_a_bad_argument_prints_the_usage_and_exits_2(module: str, tmp_path: Path) -> None:
    done = _run(module, "--no-such-option", tmp_path)

    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "usage:" in done.stderr
    assert not (tmp_path / "data").exists()
