"""The sandbox's document copies: a process killed outright leaves its copy on the temporary
disk, and the next process that opens a document removes it; a live process's copy stays.

Real processes: a child opens a real scan in the sandbox and is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ocr_core import load_document
from ocr_core._isolated import sweep_left_copies

SCAN = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "scans" / "phototest.tif"
ROOT = Path(__file__).resolve().parents[2]

OPEN_THEN_DIE = """
import os, signal, sys
from ocr_core import load_document
document = load_document(open(sys.argv[1], "rb").read(), filename="scan.tif")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("lightonocr-doc-*"))


def test_a_killed_process_leaves_its_copy_and_the_next_one_removes_it(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    child = subprocess.run(
        [sys.executable, "-c", OPEN_THEN_DIE, str(SCAN)], cwd=ROOT, env=env, timeout=120
    )
    assert child.returncode == -signal.SIGKILL
    left = _copies(tmp_path)
    assert len(left) == 1 and (left[0] / "document").stat().st_size == SCAN.stat().st_size
    assert sweep_left_copies(str(tmp_path)) == 1
    assert _copies(tmp_path) == []


def test_a_live_process_keeps_its_copy(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR for this test
    with load_document(SCAN.read_bytes(), filename="scan.tif") as document:
        assert document.page_count == 1
        mine = _copies(tmp_path)
        assert [p.name.split("-")[2] for p in mine] == [str(os.getpid())]
        assert sweep_left_copies(str(tmp_path)) == 0
        assert _copies(tmp_path) == mine
    assert _copies(tmp_path) == []
