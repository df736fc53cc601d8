"""A full disk is said as "disk full" where it happens, and loses nothing else.

The data folder is a 2 MB tmpfs mounted in a private mount namespace (`unshare --mount
--map-root-user`, util-linux): a real ENOSPC from the kernel, nothing patched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console._disk import disk_full_notice
from tests.console.jobs.conftest import make_pdf

ROOT = Path(__file__).resolve().parents[3]

SUBMIT_ON_A_FULL_DISK = """
mount -t tmpfs -o size=2m none "$LIGHTONOCR_DATA_DIR" || exit 99
"$PY" -m console.jobs submit "$UPLOAD"
echo "exit=$?"
echo "incoming=$(find "$LIGHTONOCR_DATA_DIR" -name '.incoming-*' | wc -l)"
echo "documents=$(find "$LIGHTONOCR_DATA_DIR/objects" -type f 2>/dev/null | wc -l)"
"""


def _in_a_small_disk(tmp_path: Path, script: str, upload: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("unshare") is None:
        pytest.skip("util-linux's unshare is not installed")
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(data),
        "PY": sys.executable,
        "UPLOAD": str(upload),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("LIGHTONOCR_SERVICE_URL", None)
    done = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode == 99 or "unshare:" in done.stderr:
        pytest.skip(f"no private mount namespace here: {done.stderr.strip()[:200]}")
    return done


def test_a_submit_that_fills_the_disk_says_disk_full_and_keeps_nothing(tmp_path: Path) -> None:
    upload = tmp_path / "big.pdf"
    upload.write_bytes(make_pdf(1) + b"%" * (3 << 20))  # 3 MB: more than the disk has
    done = _in_a_small_disk(tmp_path, SUBMIT_ON_A_FULL_DISK, upload)
    assert "exit=1" in done.stdout, done.stderr
    assert "disk full" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "incoming=0" in done.stdout and "documents=0" in done.stdout


def test_a_folder_with_less_room_than_needed_is_named_as_full(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    notice = disk_full_notice([tmp_path], low_bytes=free + (1 << 30))
    assert notice is not None and notice.startswith("disk full") and str(tmp_path) in notice
    assert disk_full_notice([tmp_path], low_bytes=1) is None
