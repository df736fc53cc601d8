"""One console per data folder and port: a second console, a worker started alone beside a
console, and a program squatting the local OCR server's port are refused at start, and the
running console keeps its server.

Real processes on loopback: `python -m console` (tests/console/test_supervisor.py's unit),
`python -m console.worker`, and plain sockets as squatters.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from console._data_lock import DataFolderLock, running_console
from console._store import Store
from console.platforms._local_process import PID_SETTING
from tests.console.local_platform import free_port, health, port_open
from tests.console.test_supervisor import ROOT, console_unit
from tests.waits import wait_until


def _console(env: dict[str, str], ui_port: int) -> subprocess.CompletedProcess[str]:
    args = ["--server.headless", "true", "--server.fileWatcherType", "none"]
    return subprocess.run(
        [sys.executable, "-m", "console", *args, "--server.port", str(ui_port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(data_dir: Path, ocr_port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_LOCAL_PORT": str(ocr_port),
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
    }
    env.pop("LIGHTONOCR_SERVICE_URL", None)
    return env


def test_a_second_console_on_the_same_folder_is_refused_and_the_first_keeps_its_server(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with console_unit(data) as first:
        assert wait_until(lambda: health(first.ocr_port) == 200, timeout_s=120)
        server = Store.in_dir(data).get_setting(PID_SETTING)
        second = _console(_env(data, first.ocr_port), free_port())
        assert second.returncode == 2
        assert f"another console (pid {first.process.pid}" in second.stderr
        assert "taking over" not in second.stdout
        assert health(first.ocr_port) == 200  # the first console's server was not touched
        assert Store.in_dir(data).get_setting(PID_SETTING) == server


def test_a_worker_started_alone_beside_a_console_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with console_unit(data) as unit:
        alone = subprocess.run(
            [sys.executable, "-m", "console.worker"],
            cwd=ROOT,
            env=_env(data, unit.ocr_port),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert alone.returncode == 2
        assert f"another console (pid {unit.process.pid}" in alone.stdout + alone.stderr
        assert health(unit.ocr_port) == 200 or port_open(unit.ocr_port)


def test_a_squatter_on_the_ocr_port_is_refused_at_start_and_named(tmp_path: Path) -> None:
    """A program that accepts connections and never answers, as in the probe."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        refused = _console(_env(tmp_path / "data", port), free_port())
    assert refused.returncode == 2
    assert f"port {port} of the local OCR server is taken by pid {os.getpid()}" in refused.stderr
    assert "LIGHTONOCR_LOCAL_PORT" in refused.stderr


def test_the_folder_is_free_again_once_its_console_is_gone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = DataFolderLock(data)
    lock.acquire(url="http://127.0.0.1:1", service_url="http://127.0.0.1:2")
    holder = running_console(data)
    assert holder is not None and holder.pid == os.getpid()
    lock.release()
    assert running_console(data) is None


def test_looking_for_a_running_console_creates_nothing(tmp_path: Path) -> None:
    assert running_console(tmp_path / "nowhere") is None
    assert not (tmp_path / "nowhere").exists()


def test_a_console_killed_outright_leaves_its_folder_free(tmp_path: Path) -> None:
    """The kernel lets the lock go with its holder, even after SIGKILL: no stale lock file
    can keep the next console out."""
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from console._data_lock import DataFolderLock; "
            f"lock = DataFolderLock({str(data)!r}); lock.acquire(url='', service_url=''); "
            "print('held', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert running_console(data) is not None
        holder.kill()
        holder.wait()
        assert running_console(data) is None
    finally:
        if holder.poll() is None:
            holder.kill()
