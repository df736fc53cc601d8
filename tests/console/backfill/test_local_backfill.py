"""A backfill of a folder, run as local task processes (the same driver Cloud Run Jobs runs),
against the local OCR server (simulated engine) on loopback.

Specifications: every good document's outputs exist once, beside its name; a corrupt and an
encrypted file are in the failures with their reasons; a re-run writes nothing new and says
so; a task killed mid-shard is retried and nothing is missing or written twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.backfill import backfill_status, location, manifests
from console.backfill._local import task_pids
from tests.console.jobs.conftest import make_pdf
from tests.fakes.local_server import LocalServer, start_local_server
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[3]
ENCRYPTED = ROOT.parent / "shared" / "corpus" / "pdf" / "libreoffice-writer-password.pdf"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with start_local_server("--engine", "simulated", "--service-time", "0.05") as running:
        yield running


def _source(folder: Path, documents: int) -> Path:
    for n in range(documents):
        sub = folder / f"branch-{n % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"loan-{n:03d}.pdf").write_bytes(make_pdf(1 + n % 2))
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n this is not a PDF at all")
    (folder / "locked.pdf").write_bytes(ENCRYPTED.read_bytes())
    (folder / "notes.txt").write_text("not a document: not in the manifest")
    return folder


def _backfill(server: LocalServer, source: Path, dest: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LIGHTONOCR_SERVICE_URL": server.base_url,
        "LIGHTONOCR_MAX_ATTEMPTS": "1",
        # No running console of another test is found (the backfill records itself in one).
        "XDG_STATE_HOME": str(dest.parent / "state"),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console.backfill",
            "run",
            str(source),
            "--out",
            str(dest),
            "--shard-documents",
            "5",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def test_a_folder_is_read_once_with_its_failures_named_and_a_rerun_writes_nothing(
    server: LocalServer, tmp_path: Path
) -> None:
    source, dest = _source(tmp_path / "in", 24), tmp_path / "out"
    code, out, err = _finished(_backfill(server, source, dest, "--local-tasks", "3"))
    assert code == 0, err
    for n in range(24):
        name = f"branch-{n % 3}/loan-{n:03d}.pdf"
        assert (dest / f"{name}.md").is_file() and (dest / f"{name}.json").is_file()
        assert json.loads((dest / f"{name}.json").read_text())["filename"] == f"loan-{n:03d}.pdf"
    status = backfill_status(location(str(dest)), manifests(location(str(dest)))[-1])
    assert (status.documents, status.done, status.documents_failed) == (26, 24, 2)
    reasons = {failure.document: failure.reason for failure in status.failed}
    assert reasons["locked.pdf"].startswith("EncryptedDocument")
    assert reasons["corrupt.pdf"].startswith("CorruptDocument")
    assert not (dest / "notes.txt.md").exists()

    code, out, _err = _finished(_backfill(server, source, dest, "--local-tasks", "2"))
    assert code == 0
    assert "nothing new was written" in out
    assert len(manifests(location(str(dest)))) == 2  # each run froze its own listing


def test_a_task_killed_mid_shard_is_retried_and_leaves_nothing_missing_or_twice(
    tmp_path: Path,
) -> None:
    with start_local_server("--engine", "simulated", "--service-time", "0.3") as slow:
        source, dest = _source(tmp_path / "in", 30), tmp_path / "out"
        running = _backfill(slow, source, dest, "--local-tasks", "2")
        try:
            assert wait_until(lambda: len(list(dest.rglob("*.pdf.json"))) >= 3, timeout_s=300)
            [victim] = task_pids(0)
            os.kill(victim, signal.SIGKILL)
            code, _out, err = _finished(running)
        finally:
            if running.poll() is None:
                running.kill()
    assert code == 0, err
    outputs = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.pdf.md"))
    assert outputs == sorted(f"branch-{n % 3}/loan-{n:03d}.pdf.md" for n in range(30))
    task = json.loads(next(dest.glob("_backfill/*/tasks/task-0.json")).read_text())
    assert task["attempt"] >= 1 and task["finished"]
