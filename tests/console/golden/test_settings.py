"""Golden runs explain themselves: each records what shaped its text, `history` says what
changed between two runs, their jobs are marked, and a set is updated or removed through
the door (issue 35, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.golden import GoldenStore, load_folder, start_run, text_settings, wait_for_run
from console.jobs import JobRunner, JobStore
from ocr_core import ClientSettings, OCRClient
from tests.console.golden.conftest import ROOT, phototest_set
from tests.fakes.local_server import LocalServer


@pytest.fixture
def runner(store: Store, simulated_server: LocalServer) -> Iterator[JobRunner]:
    settings = ClientSettings(base_url=simulated_server.base_url, auth="none", max_attempts=1)
    runner = JobRunner(
        store, lambda: OCRClient(settings=settings), revision=lambda: "sim-1", poll_s=0.1
    ).start()
    yield runner
    runner.stop()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_ACTOR": "ci",
    }
    return subprocess.run(
        [sys.executable, "-m", "console.golden", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run(
    golden: GoldenStore, jobs: JobStore, runner: JobRunner, url: str, settings: ClientSettings
) -> int:
    run_id = start_run(
        golden,
        jobs,
        "photo",
        service_url=url,
        revision=None,
        actor="qa",
        settings=text_settings(settings),
    )
    runner.wake()
    wait_for_run(golden, jobs, run_id, timeout_s=60, poll_s=0.1)
    return run_id


def test_history_says_which_setting_changed_between_two_runs_and_marks_their_jobs(
    tmp_path: Path,
    golden: GoldenStore,
    jobs: JobStore,
    runner: JobRunner,
    simulated_server: LocalServer,
) -> None:
    golden.register(
        "photo", load_folder(phototest_set(tmp_path / "set")).documents, actor="qa", source="t"
    )
    url = simulated_server.base_url
    first = _run(golden, jobs, runner, url, ClientSettings(base_url=url, max_tokens=4096))
    second = _run(golden, jobs, runner, url, ClientSettings(base_url=url, max_tokens=2048))
    newer, older = golden.runs("photo")
    assert (newer.id, older.id) == (second, first)
    assert older.settings["max_tokens"] == 4096 and older.settings["revision"] == "sim-1"
    assert older.settings["longest_side_sent"].isdigit()  # what the pages were sent at
    assert newer.changes_from(older) == ["max tokens 4096 -> 2048"]
    history = _cli(tmp_path / "data", "history", "photo")
    assert history.returncode == 0, history.stderr
    assert "changed since the run before: max tokens 4096 -> 2048" in history.stdout
    assert "settings: model " in history.stdout and "order-free CER " in history.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "console.jobs", "list"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LIGHTONOCR_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.stdout.count("[golden set] photo") == 2


def test_a_set_is_updated_and_removed_from_the_cli_through_the_door(
    tmp_path: Path, golden: GoldenStore, store: Store
) -> None:
    data = tmp_path / "data"
    folder = phototest_set(tmp_path / "set")
    assert _cli(data, "register", "photo", str(folder)).returncode == 0
    before = golden.contents_digest(golden.get("photo").id)
    (folder / "phototest.txt").write_text("This is a lot of 12 point text to test the ocr.")
    updated = _cli(data, "update", "photo", str(folder))
    assert updated.returncode == 0, updated.stderr
    assert golden.contents_digest(golden.get("photo").id) != before
    removed = _cli(data, "remove", "photo")
    assert removed.returncode == 0, removed.stderr
    assert golden.find("photo") is None
    audited = [(r.actor, r.action, r.ok) for r in store.audit() if "golden" in r.action]
    assert audited[:2] == [("ci", "remove golden set", True), ("ci", "update golden set", True)]
