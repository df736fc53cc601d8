"""Every face reaches the same console: a shell without the console's variables, in another
directory, finds the running console's store and service (issue 35, item 4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from console._store import Store
from console.jobs import JobStatus, JobStore
from tests.console.jobs.conftest import make_pdf
from tests.fakes.local_server import free_port
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Console:
    home: Path
    data_dir: Path
    service_url: str


def _shell(home: Path) -> dict[str, str]:
    """A new shell: its PATH and HOME, none of the console's variables."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(ROOT)}


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """The console's worker (`python -m console.worker`, which `python -m console` starts)
    with its own data folder and OCR port, started from the project's folder."""
    home, data_dir, port = tmp_path / "home", tmp_path / "console-data", free_port()
    env = {
        **_shell(home),
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_LOCAL_PORT": str(port),
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "console.worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    records = home / ".local/state/lightonocr/consoles"
    try:
        assert wait_until(lambda: (records / f"{worker.pid}.json").exists()), "never announced"
        yield Console(home, data_dir, f"http://127.0.0.1:{port}")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
        server = Store.in_dir(data_dir).get_setting("local.server")
        if server:  # the OCR server outlives its console by design: stop it by its pid
            with suppress(ProcessLookupError):
                os.kill(int(server["pid"]), signal.SIGTERM)
    assert not (records / f"{worker.pid}.json").exists(), "the record outlived the console"


def test_a_shell_without_the_consoles_variables_submits_to_its_store_and_service(
    console: Console, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "scan.pdf").write_bytes(make_pdf(2))
    submitted = subprocess.run(
        [sys.executable, "-m", "console.jobs", "--verbose", "submit", "scan.pdf", "--json"],
        cwd=elsewhere,
        env=_shell(console.home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert submitted.returncode == 0, submitted.stderr
    store_line, service_line = submitted.stderr.splitlines()[:2]
    assert str(console.data_dir / "console.sqlite3") in store_line
    assert "the running console's" in store_line
    assert service_line == f"service: {console.service_url} (the running console's)"
    record = json.loads(submitted.stdout)
    assert record["service_url"] == console.service_url
    assert list(elsewhere.iterdir()) == [elsewhere / "scan.pdf"], "a store was made here"
    jobs = JobStore(Store.in_dir(console.data_dir))
    assert wait_until(lambda: jobs.job(record["id"]).status is JobStatus.DONE, timeout_s=120)
    listed = subprocess.run(
        [sys.executable, "-m", "console.jobs", "list"],
        cwd=elsewhere,
        env=_shell(console.home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert f"{record['id']:>5}  done" in listed.stdout
