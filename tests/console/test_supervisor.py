"""`python -m console` as one unit: the worker, the UI and the local OCR server start
together, finish jobs with no browser ever opened, and stop together.

Real processes on loopback: the supervisor, its worker and Streamlit, the local OCR server
(simulated engine, 0.5 s a page, 8 slots), and `python -m console.jobs submit` from a shell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from console._store import Store
from console.jobs import JobStatus, JobStore
from console.platforms._local_process import PID_SETTING, SERVER_MODULE
from tests.console.jobs.conftest import make_pdf
from tests.console.local_platform import free_port, port_open
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT.parent / "shared" / "corpus" / "scans" / "phototest.tif"


@dataclass
class Unit:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    ui_port: int
    ocr_port: int
    log: Path

    def submit(self, *files: Path) -> int:
        done = subprocess.run(
            [sys.executable, "-m", "console.jobs", "submit", *map(str, files), "--json"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return int(json.loads(done.stdout)["id"])

    def jobs(self) -> JobStore:
        return JobStore(Store.in_dir(Path(self.env["LIGHTONOCR_DATA_DIR"])))


def _ui_healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


@contextmanager
def console_unit(
    data_dir: Path, *, ports: tuple[int, int] | None = None, engine: str = "simulated"
) -> Iterator[Unit]:
    """`python -m console` in its own process group, on free ports; the log is checked for
    tracebacks at the end. The caller stops it (or it is stopped as by Ctrl-C on the way
    out)."""
    ui_port, ocr_port = ports or (free_port(), free_port())
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_LOCAL_PORT": str(ocr_port),
        "LIGHTONOCR_LOCAL_ENGINE": engine,
        "LIGHTONOCR_ACTOR": "batch-script",
    }
    env.pop("LIGHTONOCR_SERVICE_URL", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"console-{ui_port}.log"
    args = ["--server.headless", "true", "--server.fileWatcherType", "none"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "console", *args, "--server.port", str(ui_port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_until(lambda: _ui_healthy(ui_port), timeout_s=120), log.read_text()[-3000:]
        assert wait_until(lambda: port_open(ocr_port), timeout_s=120), log.read_text()[-3000:]
        yield Unit(process, env, ui_port, ocr_port, log)
    finally:
        if process.poll() is None:
            # Ctrl-C, as a person stops it: its worker then stops the local OCR server, which
            # runs in a session of its own and outlived a SIGKILL of the group (two leaked
            # servers per CI run).
            try:
                _interrupt(process)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-3000:]


def _interrupt(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C in the terminal: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=90)


def test_a_job_submitted_from_a_shell_finishes_with_no_browser_opened(tmp_path: Path) -> None:
    scan = tmp_path / "five.pdf"
    scan.write_bytes(make_pdf(5))
    with console_unit(tmp_path / "data") as unit:
        job_id = unit.submit(scan)
        jobs = unit.jobs()
        assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=120)
        job = jobs.job(job_id)
        assert job is not None and job.status is JobStatus.DONE and job.pages_done == 5
        assert job.actor == "batch-script"
        audit = jobs.store.audit(10)
        assert ("batch-script", "start job", True) in [(a.actor, a.action, a.ok) for a in audit]
        assert _interrupt(unit.process) == 0


def test_ctrl_c_leaves_nothing_listening(tmp_path: Path) -> None:
    with console_unit(tmp_path / "data") as unit:
        assert _interrupt(unit.process) == 0
        assert not port_open(unit.ui_port)
        assert not port_open(unit.ocr_port)
    server_log = (tmp_path / "data" / "server.log").read_text(errors="replace")
    assert "KeyboardInterrupt" not in server_log and "Traceback" not in server_log


def test_a_terminals_ctrl_c_does_not_reach_the_ocr_server(tmp_path: Path) -> None:
    """The server and its engine's pool processes are stopped by the worker with SIGTERM;
    the terminal's SIGINT goes to the console's process group only."""
    with console_unit(tmp_path / "data") as unit:
        assert wait_until(lambda: Store.in_dir(tmp_path / "data").get_setting(PID_SETTING))
        server = Store.in_dir(tmp_path / "data").get_setting(PID_SETTING)["pid"]
        assert os.getpgid(server) != os.getpgid(unit.process.pid)
        assert _interrupt(unit.process) == 0


def test_a_killed_console_restarts_and_finishes_its_job_with_every_page_once(
    tmp_path: Path,
) -> None:
    scan = tmp_path / "forty.pdf"
    scan.write_bytes(make_pdf(40))
    ports = (free_port(), free_port())
    with console_unit(tmp_path / "data", ports=ports) as unit:
        job_id = unit.submit(scan)
        jobs = unit.jobs()
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 8, timeout_s=120)
        os.killpg(unit.process.pid, signal.SIGKILL)  # the whole console, with no goodbye
        unit.process.wait()
    assert jobs.job(job_id).active  # left running: nobody handed it back
    with console_unit(tmp_path / "data", ports=ports) as unit:
        assert wait_until(lambda: jobs.job(job_id).status is JobStatus.DONE, timeout_s=180)
        assert _interrupt(unit.process) == 0
    pages = jobs.pages(job_id)
    assert sorted(p.index for p in pages) == list(range(40))  # each page once, none lost
    assert all(p.result.ok for p in pages)


def test_a_killed_supervisor_takes_its_worker_and_ui_with_it(tmp_path: Path) -> None:
    with console_unit(tmp_path / "data") as unit:
        unit.process.send_signal(signal.SIGKILL)  # only the supervisor: its children remain
        unit.process.wait()
        # The kernel's parent-death signal stops the UI and the worker; the worker stops
        # the OCR server it ran.
        assert wait_until(lambda: not port_open(unit.ui_port), timeout_s=60)
        assert wait_until(lambda: not port_open(unit.ocr_port), timeout_s=60)


def test_a_server_a_killed_console_left_is_taken_over_said_and_stopped(tmp_path: Path) -> None:
    """As a worker killed alone leaves it: the server running, its pid in the store."""
    ui_port, ocr_port = free_port(), free_port()
    data = tmp_path / "data"
    data.mkdir()
    left = subprocess.Popen(
        [
            sys.executable,
            "-m",
            SERVER_MODULE,
            "--host",
            "127.0.0.1",
            "--port",
            str(ocr_port),
            "--engine",
            "simulated",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: port_open(ocr_port), timeout_s=120)
        Store.in_dir(data).set_setting(PID_SETTING, {"pid": left.pid, "port": ocr_port})
        with console_unit(data, ports=(ui_port, ocr_port)) as unit:
            said = "taking over the local OCR server a previous console left running"
            assert f"{said} (pid {left.pid}, port {ocr_port})" in unit.log.read_text()
            assert _interrupt(unit.process) == 0
        assert left.wait(timeout=60) is not None  # stopped with the console
        assert not port_open(ocr_port)
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()


def test_ctrl_c_then_a_restart_mid_job_reads_every_page_and_fails_none(tmp_path: Path) -> None:
    """Issue 35: after Ctrl-C and the same command again, the worker resumed the job while
    its own server still answered 503 "the engine is still loading", and two pages failed.
    The real CPU engine, whose load (model and a primed page) is the wait."""
    scans = []
    for n in range(12):
        scan = tmp_path / f"scan-{n}.tif"
        scan.write_bytes(PHOTO.read_bytes())
        scans.append(scan)
    ports = (free_port(), free_port())
    with console_unit(tmp_path / "data", ports=ports, engine="rapidocr") as unit:
        job_id = unit.submit(*scans)
        jobs = unit.jobs()
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 1, timeout_s=300)
        assert _interrupt(unit.process) == 0
    assert jobs.job(job_id).pages_done < 12  # stopped mid-job
    with console_unit(tmp_path / "data", ports=ports, engine="rapidocr") as unit:
        assert wait_until(lambda: not jobs.job(job_id).active, timeout_s=600)
        assert _interrupt(unit.process) == 0
    job = jobs.job(job_id)
    assert (job.pages_done, job.pages_failed) == (12, 0)
    assert all(page.result.ok for page in jobs.pages(job_id))
