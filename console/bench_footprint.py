"""`python -m console.bench_footprint`: the console's memory while it reads a long job.

Issue 31 (item 10) asks what the console's Cloud Run instance must hold. This starts the whole
console (`python -m console`: supervisor, worker with its sandbox and word-locator workers,
Streamlit) on a fresh data folder, with the local server's `simulated` engine standing in for
the GPU service (on Cloud Run the OCR runs elsewhere, so the server's own RSS is left out),
submits one `--pages`-page scanned PDF with its words located, and samples the RSS of every
process of the console's tree until the job is done. Prints the idle sum, the peak sum and
each process's peak.

A browser upload adds to this: Streamlit keeps an uploaded file in the UI process's memory
until the script run ends (its upload manager holds the bytes, the page reads them through
a BytesIO), so a 200 MB upload adds 200 MB there, and up to 400 MB while both are alive;
the job's bytes are then streamed to the object store in 1 MB pieces, not held again.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from console._store import Store
from console.jobs import JobStore

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "scans"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tree(root: int) -> dict[int, str]:
    """pid -> command line, for `root` and every process below it."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        commands[int(entry.name)] = command
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        found[pid] = commands.get(pid, "?")
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _label(command: str) -> str:
    for marker, label in (
        ("ocr_core.server", "ocr server (excluded)"),
        ("streamlit", "ui (streamlit)"),
        ("console.worker", "worker"),
        ("multiprocessing", "sandbox / locator worker"),
        ("-m console", "supervisor"),
    ):
        if marker in command:
            return label
    return command[:60]


def _scanned_pdf(path: Path, pages: int) -> None:
    scans = [Image.open(p).convert("L") for p in sorted(CORPUS.glob("*.tif"))]
    frames = [scans[i % len(scans)] for i in range(pages)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PDF", save_all=True, append_images=frames[1:], resolution=300)
    path.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.bench_footprint", description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="footprint-"))
    env = {
        **os.environ,
        "LIGHTONOCR_DATA_DIR": str(folder / "data"),
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
        "LIGHTONOCR_LOCAL_PORT": str(_free_port()),
        "LIGHTONOCR_CONSOLE_PORT": str(_free_port()),
    }
    pdf = folder / "scans.pdf"
    _scanned_pdf(pdf, args.pages)
    console = subprocess.Popen(
        [sys.executable, "-m", "console", "--server.headless", "true"],
        env=env,
        stdout=(folder / "console.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    peaks: dict[int, tuple[str, float]] = {}
    try:
        time.sleep(20)  # the UI and the worker import and settle: the idle figure
        idle = _sample(console.pid, peaks)
        submitted = subprocess.run(
            [sys.executable, "-m", "console.jobs", "submit", str(pdf), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"submitted {pdf.stat().st_size / 2**20:.1f} MB, {args.pages} pages", flush=True)
        store = Store.from_env(env)
        jobs = JobStore(store)
        job_id = int(json.loads(submitted.stdout)["id"])
        peak, started = idle, time.monotonic()
        while time.monotonic() - started < args.timeout:
            peak = max(peak, _sample(console.pid, peaks))
            job = jobs.job(job_id)
            if job is not None and not job.active:
                break
            time.sleep(0.5)
        took = time.monotonic() - started
        words = len(store.read(sa.text("select 1 from page_words")))
        store.close()
    finally:
        os.killpg(console.pid, signal.SIGTERM)
        console.wait(60)
    print(f"job of {args.pages} pages, {words} pages' words located: {took:.0f} s")
    print(f"console tree RSS (OCR server excluded): idle {idle:.0f} MB, peak {peak:.0f} MB")
    for pid, (label, mb) in sorted(peaks.items(), key=lambda item: -item[1][1]):
        print(f"  {label:<28} pid {pid:<8} peak {mb:7.0f} MB")
    return 0


def _sample(root: int, peaks: dict[int, tuple[str, float]]) -> float:
    total = 0.0
    for pid, command in _tree(root).items():
        label = _label(command)
        mb = _rss_mb(pid)
        if label.endswith("(excluded)"):
            continue
        total += mb
        if mb > peaks.get(pid, (label, 0.0))[1]:
            peaks[pid] = (label, mb)
    return total


if __name__ == "__main__":
    sys.exit(main())
