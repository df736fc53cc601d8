"""`python -m console.jobs.bench_lanes`: can one job starve the others? Measured, in one run.

Against one local server (simulated engine, `--slots` slots, `--service-time` s a page), with
a real `JobRunner` on a SQLite store in a scratch folder and the sandbox's production limits
(LIGHTONOCR_RENDER_* to change them):

1. Fair lanes: a 5-page job alone; then the same job submitted while a job holding a
   `--bomb-pages`-page PDF whose pages all share one content stream of 3 million operators
   renders (each page costs the sandbox its whole time limit). Prints both times and their
   ratio (target <= 2x), and how the bomb ended (breaches before its quarantine).
2. Through `load_document`, an unrelated PDF read alone and while two hostile PDFs render
   (their pages held at the sandbox's limits): prints the delay (target <= 1 s).
3. Prompt cancel: `--queued` 5-page jobs queued at once, half of them cancelled; prints the
   slowest time from a cancel request to the job's `cancelled` (target <= 2 s) and the
   server's requests still running once they are all cancelled.

The bomb is built by `tests/ocr_core/hostile.py` (run from a checkout).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx

from console._store import Store
from console.jobs._models import JobStatus
from console.jobs._store import JobStore
from console.jobs._uploads import NewDocument
from console.runtime import make_runner
from ocr_core import ClientSettings, OCRError, load_document
from ocr_core.bench._batch import build_pdf, simulated_server
from tests.ocr_core.hostile import operator_bomb_pages


def _wait(condition: object, what: str, timeout_s: float = 900.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.01)


class _Bench:
    def __init__(self, base_url: str, slots: int, scratch: Path) -> None:
        self.base_url = base_url
        self.store = Store.in_dir(scratch)
        self.jobs = JobStore(self.store)
        settings = ClientSettings(base_url=base_url, auth="none", max_attempts=1, concurrency=slots)
        self.runner = make_runner(self.store, settings, poll_s=0.1)
        self.runner.start()

    def submit(self, name: str, data: bytes) -> int:
        job_id = self.jobs.create_job(
            [NewDocument(name, data)], actor="bench", service_url=self.base_url
        )
        self.runner.wake()
        return job_id

    def finished(self, job_id: int) -> bool:
        job = self.jobs.job(job_id)
        return job is not None and not job.active

    def timed(self, job_id: int, started: float) -> float:
        _wait(lambda: self.finished(job_id), f"job {job_id} finishing")
        return time.perf_counter() - started

    def close(self) -> None:
        self.runner.stop()
        self.store.close()


def fair_lanes(bench: _Bench, bomb_pages: int) -> None:
    letter = build_pdf(5)
    bench.timed(bench.submit("warm.pdf", letter), time.perf_counter())  # client, sandbox up
    started = time.perf_counter()
    alone = bench.timed(bench.submit("letter.pdf", letter), started)
    bomb = bench.submit("bomb.pdf", operator_bomb_pages(bomb_pages))
    bomb_started = time.perf_counter()
    _wait(lambda: bench.jobs.documents(bomb)[0].page_count > 0, "the bomb opening")
    started = time.perf_counter()
    beside = bench.timed(bench.submit("letter.pdf", letter), started)
    print(f"  5-page job alone                 {alone:7.2f} s")
    print(
        f"  the same job beside the bomb     {beside:7.2f} s  ({beside / alone:.2f}x, target <= 2x)"
    )
    bomb_s = bench.timed(bomb, bomb_started)
    kinds: dict[str, int] = {}
    for page in bench.jobs.pages(bomb):
        error = page.result.error
        kind = "read" if error is None else str(error).split(":", 1)[-1].strip()[:90]
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"  the {bomb_pages}-page bomb ended in {bomb_s:.1f} s:")
    for kind, count in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"    {count:5d} x {kind}")


def _read_all(data: bytes) -> float:
    started = time.perf_counter()
    with load_document(data) as document:
        for page in document.pages():
            page.image  # noqa: B018 (rendering is the point)
    return time.perf_counter() - started


def beside_two_bombs() -> None:
    letter = build_pdf(5)
    _read_all(letter)  # the sandbox's workers are up
    alone = min(_read_all(letter) for _ in range(3))
    bombs = [threading.Thread(target=_bomb_pages) for _ in range(2)]
    for bomb in bombs:
        bomb.start()
    time.sleep(2.0)  # both bombs are rendering in their workers by now
    beside = _read_all(letter)
    running = sum(bomb.is_alive() for bomb in bombs)
    print(f"  5-page PDF alone {alone:.3f} s; beside two hostile PDFs {beside:.3f} s")
    print(f"  delay {beside - alone:.3f} s (target <= 1 s); bombs still rendering: {running}")
    for bomb in bombs:
        bomb.join()


def _bomb_pages() -> None:
    with contextlib.suppress(OCRError), load_document(operator_bomb_pages(4)) as document:
        for page in document.pages():
            with contextlib.suppress(OCRError):
                page.image  # noqa: B018


def prompt_cancel(bench: _Bench, queued: int) -> None:
    letter = build_pdf(5)
    ids = [bench.submit(f"queued-{n}.pdf", letter) for n in range(queued)]
    time.sleep(1.0)  # let the runner take the first jobs and start their pages
    waits = []
    for job_id in ids[::2]:
        asked = time.perf_counter()
        bench.jobs.request_cancel(job_id)
        bench.runner.wake()
        _wait(lambda job_id=job_id: bench.finished(job_id), f"job {job_id} cancelled", 60)
        waits.append(time.perf_counter() - asked)
    statuses = [bench.jobs.job(job_id).status for job_id in ids[::2]]  # type: ignore[union-attr]
    cancelled = sum(status is JobStatus.CANCELLED for status in statuses)
    print(
        f"  {len(waits)} of {queued} queued jobs cancelled: {cancelled} ended cancelled, "
        f"slowest {max(waits):.2f} s from the request (target <= 2 s)"
    )
    for job_id in ids[1::2]:
        bench.jobs.request_cancel(job_id)
    bench.runner.wake()
    _wait(lambda: all(bench.finished(job_id) for job_id in ids), "every job ending", 120)
    metrics = httpx.get(f"{bench.base_url}/metrics", timeout=10).text
    running = next(
        line for line in metrics.splitlines() if line.startswith("vllm:num_requests_running")
    )
    print(f"  once all are cancelled, the server says: {running}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.jobs.bench_lanes", description=__doc__)
    parser.add_argument("--service-time", type=float, default=0.3, help="s per page")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--bomb-pages", type=int, default=1000)
    parser.add_argument("--queued", type=int, default=50)
    args = parser.parse_args(argv)
    print(
        f"server: simulated engine, {args.slots} slots x {args.service_time:g} s/page; "
        f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}"
    )
    with (
        simulated_server(args.service_time, args.slots) as base_url,
        tempfile.TemporaryDirectory(prefix="lanes-bench-") as scratch,
    ):
        bench = _Bench(base_url, args.slots, Path(scratch))
        try:
            print("fair lanes:")
            fair_lanes(bench, args.bomb_pages)
            print("sandbox (load_document):")
            beside_two_bombs()
            print("prompt cancel:")
            prompt_cancel(bench, args.queued)
        finally:
            bench.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
