"""`python -m console.worker` as a process: JSON lines, and a clean stop on SIGTERM that
hands its jobs back to the queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from console._store import Store
from console.jobs import JobStatus, JobStore, NewDocument
from console.service import live_workers
from tests.console.jobs.conftest import make_pdf
from tests.console.local_platform import free_port, port_open
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parents[3]
PHOTO = ROOT.parent / "shared" / "corpus" / "scans" / "phototest.tif"


def _start_worker(
    data_dir: Path, ocr_port: int, *, sigterm_blocked: bool = False
) -> tuple[subprocess.Popen[bytes], Path]:
    """`python -m console.worker` on a data folder with the simulated local engine, its
    output in a log; started from a thread that blocks SIGTERM if asked (the child inherits
    the mask). Returns the process and its log."""
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
        "LIGHTONOCR_LOCAL_PORT": str(ocr_port),
    }
    env.pop("LIGHTONOCR_SERVICE_URL", None)
    log = data_dir / "worker.log"
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        if sigterm_blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        with log.open("wb") as out:
            command = [sys.executable, "-m", "console.worker"]
            started.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    return started[0], log


def _kill_showing_its_stacks(worker: subprocess.Popen[bytes], log: Path) -> None:
    """A worker that outlived its stop: its threads' stacks (SIGUSR1) into the test's output,
    with its log, then killed."""
    worker.send_signal(signal.SIGUSR1)
    wait_until(lambda: "most recent call first" in log.read_text(), timeout_s=10)
    worker.kill()
    print("the worker's log and stacks, as they stood when it was killed:\n" + log.read_text())


def test_sigterm_hands_the_jobs_back_and_every_line_is_json(tmp_path: Path) -> None:
    ocr_port = free_port()
    store = Store.in_dir(tmp_path)
    jobs = JobStore(store)
    job_id = jobs.create_job([NewDocument("long.pdf", make_pdf(200))], actor="qa", service_url="")
    worker, log = _start_worker(tmp_path, ocr_port)
    try:
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 1, timeout_s=120)
        assert [beat.pid for beat in live_workers(store)] == [worker.pid]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    job = jobs.job(job_id)
    assert job is not None and job.status is JobStatus.QUEUED and job.pages_done < 200
    assert live_workers(store) == []  # its beat is gone with it
    assert not port_open(ocr_port)  # the OCR server it ran stopped with it
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [line["message"] for line in lines]
    assert messages.index("worker started") < messages.index("worker stopped")
    assert all({"time", "severity", "message"} <= set(line) for line in lines)


def test_sigterm_hands_the_jobs_back_before_closing_the_word_locator(tmp_path: Path) -> None:
    """Cloud Run kills an instance ~10 s after SIGTERM; the word locator may need longer to
    close (a page being located), so the jobs go back to the queue first."""
    store = Store.in_dir(tmp_path)
    jobs = JobStore(store)
    scans = [NewDocument(f"photo-{n}.tif", PHOTO.read_bytes()) for n in range(6)]
    job_id = jobs.create_job(scans, actor="qa", service_url="", locate_words=True)
    worker, log = _start_worker(tmp_path, free_port())
    try:
        assert wait_until(lambda: jobs.job(job_id).pages_done >= 1, timeout_s=120)
        signalled = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        # Back in the queue, or done: a job is done when its text is, its words after.
        handed = (JobStatus.QUEUED, JobStatus.DONE)
        assert wait_until(lambda: jobs.job(job_id).status in handed, timeout_s=60)
        print(f"job handed back {time.monotonic() - signalled:.2f} s after SIGTERM")
        assert worker.wait(timeout=90) == 0
    finally:
        if worker.poll() is None:
            _kill_showing_its_stacks(worker, log)
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines()]
    assert messages.index("jobs handed back") < messages.index("word locator closed")
    assert messages.index("word locator closed") < messages.index("worker stopped")


def test_a_worker_started_with_sigterm_blocked_still_stops_on_it(tmp_path: Path) -> None:
    worker, log = _start_worker(tmp_path, free_port(), sigterm_blocked=True)
    try:
        assert wait_until(lambda: "worker started" in log.read_text(), timeout_s=120)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            _kill_showing_its_stacks(worker, log)
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines()]
    assert "started with SIGTERM blocked: unblocked" in messages
    assert messages[-1] == "worker stopped"
