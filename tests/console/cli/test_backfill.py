"""`python -m console.jobs backfill` and `backfills`: the backfill's own commands (`python -m
console.backfill run` and `list`) under the jobs' name, as real processes against the
simulated local server, recorded in and listed from the console's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from console._store import Store
from tests.console.jobs.conftest import make_pdf
from tests.fakes.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[3]


def _jobs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.jobs", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_jobs_command_runs_a_backfill_and_lists_it_as_the_backfills_view_does(
    tmp_path: Path, simulated_server: LocalServer
) -> None:
    source, dest = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for n in range(3):
        (source / f"loan-{n}.pdf").write_bytes(make_pdf(1))
    (source / "broken.pdf").write_bytes(b"%PDF-1.7 and nothing after")
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        "LIGHTONOCR_SERVICE_URL": simulated_server.base_url,
        "LIGHTONOCR_ACTOR": "ops@bank.example",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    Store.in_dir(tmp_path / "data").close()  # the console's store, where it is listed

    ran = _jobs(env, "backfill", str(source), "--out", str(dest), "--local-tasks", "1")
    listed = _jobs(env, "backfills", "--json")

    assert ran.returncode == 0, ran.stderr
    assert "documents 4: done 3, failed 1, left 0" in ran.stdout
    assert listed.returncode == 0, listed.stderr
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (record["by"], record["done"], record["failed"]) == ("ops@bank.example", 3, 1)
