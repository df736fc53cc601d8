"""`python -m console.backfill.bench_scale`: does a backfill use the capacity it is given?

A backfill's throughput should grow with the GPU instances (or local tasks) it may use.
Here each "instance" is a local OCR server with the simulated engine at a fixed service time
(`--service-time`, `--slots` pages at once: capacity = slots / service time pages per
second), and the backfill runs one task process per instance, each pointed at its own, as
the same driver runs on Cloud Run Jobs. For 1, 2, 4 and 8 instances it prints pages per
second against the capacity given, side by side in one run; and, first, the client's own
bound on this machine: one task against servers that answer at once (no service time),
which is what the tasks' CPU can do whatever the GPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pypdfium2 as pdfium

from console.backfill._local import task_command
from console.backfill._locations import location
from console.backfill._manifest import freeze
from console.backfill._status import backfill_status


def _pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(300, 400)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@contextlib.contextmanager
def _servers(count: int, service_time: float, slots: int) -> Iterator[list[str]]:
    processes, urls = [], []
    try:
        for _ in range(count):
            with contextlib.closing(socket.socket()) as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            command = [
                sys.executable,
                "-m",
                "ocr_core.server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--engine",
                "simulated",
                "--service-time",
                str(service_time),
                "--max-num-seqs",
                str(slots),
                "--max-waiting",
                str(16 * slots),
            ]
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes.append(subprocess.Popen(command, **quiet))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()


def _run(
    urls: list[str], documents: int, pages: int, scratch: Path, slots: int
) -> tuple[float, float]:
    """Pages per second of a backfill of `documents` with one task per server: over the
    whole run (processes started to last exit) and while the tasks worked (from each task's
    first look at the manifest to its last page: no interpreter start)."""
    source, dest = scratch / f"in-{len(urls)}-{time.monotonic_ns()}", scratch / "out"
    source.mkdir()
    data = _pdf(pages)
    for n in range(documents):
        (source / f"doc-{n:05d}.pdf").write_bytes(data)
    out = location(str(dest / source.name), create=True)
    manifest = freeze(location(str(source)), out, shard_documents=5)
    started = time.monotonic()
    tasks = []
    for index, url in enumerate(urls):
        env = {
            **os.environ,
            "LIGHTONOCR_SERVICE_URL": url,
            "LIGHTONOCR_CONCURRENCY": str(slots),
            "CLOUD_RUN_TASK_INDEX": str(index),
            "CLOUD_RUN_TASK_COUNT": str(len(urls)),
        }
        tasks.append(subprocess.Popen(task_command(out.url, manifest.backfill_id), env=env))
    for task in tasks:
        task.wait()
    seconds = time.monotonic() - started
    status = backfill_status(out, manifest.backfill_id)
    if status.done != documents:
        raise RuntimeError(f"only {status.done} of {documents} documents were read")
    return documents * pages / seconds, status.pages_per_s or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m console.backfill.bench_scale")
    parser.add_argument("--service-time", type=float, default=0.5, help="seconds per page")
    parser.add_argument("--slots", type=int, default=4, help="pages at once per instance")
    # A task's start (its interpreter, its sandbox's workers) is paid once per task; on Cloud
    # Run a task works for up to an hour. 30 s of work keeps that start a small share, as it
    # is there: with 8 s the start alone cost a tenth of the run at 2 instances.
    parser.add_argument("--seconds", type=float, default=30.0, help="work per run at capacity")
    parser.add_argument("--pages", type=int, default=2, help="pages per document")
    parser.add_argument("--scales", default="1,2,4,8")
    args = parser.parse_args()
    per_instance = args.slots / args.service_time
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as scratch:
        with _servers(1, 0.0, 64) as instant:
            documents = max(8, int(4 * per_instance * args.seconds / args.pages))
            _whole, bound = _run(instant, documents, args.pages, Path(scratch), 64)
        cores = os.cpu_count()
        print(f"the client's own bound (one task, answers at once): {bound:.1f} pages/s")
        print(
            f"on {cores} cores; capacity = instances x {args.slots} slots / {args.service_time} s"
        )
        header = ("instances", "capacity", "working p/s", "ratio", "whole run p/s")
        print("{:>9} {:>9} {:>12} {:>6} {:>14}".format(*header))
        for scale in (int(s) for s in args.scales.split(",")):
            capacity = scale * per_instance
            documents = max(scale * 4, int(capacity * args.seconds / args.pages))
            with _servers(scale, args.service_time, args.slots) as urls:
                whole, working = _run(urls, documents, args.pages, Path(scratch), args.slots)
            bounded = " (past the client's bound)" if capacity > bound else ""
            ratio = working / capacity
            row = f"{scale:>9} {capacity:>9.1f} {working:>12.1f} {ratio:>6.2f} {whole:>14.1f}"
            print(row + bounded)


if __name__ == "__main__":
    main()
