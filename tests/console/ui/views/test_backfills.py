"""The Backfills page: a backfill run from a shell (real local task processes against the
local OCR server) shows as one thing, read from its destination: counts, tasks, and each
failed document with its reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from console.service import Operations
from tests.console.jobs.conftest import make_pdf
from tests.console.ui.views.console_ops import installed_operations, page
from tests.fakes.local_server import start_local_server

ROOT = Path(__file__).resolve().parents[4]


def _backfill(data_dir: Path, source: Path, dest: Path, service_url: str) -> None:
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_SERVICE_URL": service_url,
        "LIGHTONOCR_ACTOR": "ops@bank.example",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.backfill",
            "run",
            str(source),
            "--out",
            str(dest),
            "--local-tasks",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_a_backfill_run_from_a_shell_shows_its_counts_and_failures(tmp_path: Path) -> None:
    source, dest = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for n in range(4):
        (source / f"loan-{n}.pdf").write_bytes(make_pdf(1))
    (source / "broken.pdf").write_bytes(b"%PDF-1.7 and nothing after")
    with installed_operations(tmp_path / "data", worker=False, default_floor=0) as operations:
        assert isinstance(operations, Operations)
        with start_local_server("--engine", "simulated", "--service-time", "0.02") as server:
            _backfill(tmp_path / "data", source, dest, server.base_url)
        at = page("backfills").run()
        assert not at.exception
        assert at.title[0].value == "Backfills"
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["documents"] == "5" and metrics["done"] == "4"
        assert (metrics["failed"], metrics["left"]) == ("1", "0")
        [failures] = at.dataframe
        assert failures.value["document"].tolist() == ["broken.pdf"]
        assert failures.value["reason"][0].startswith("CorruptDocument")
        assert any("by ops@bank.example · 2 local tasks" in c.value for c in at.caption)


def test_without_backfills_the_page_says_how_to_start_one(tmp_path: Path) -> None:
    with installed_operations(tmp_path, worker=False, default_floor=0):
        at = page("backfills").run()
        assert not at.exception
        assert at.info[0].value == "No backfill was started from this console yet."
        assert "python -m console.backfill run" in at.caption[0].value
