"""`python -m console.jobs.bench_shared --database-url URL`: do two workers share one job?

On PostgreSQL several console workers split one job a document at a time
(`console/jobs/_shared_ledger.py`). Here: one job of `--pages` pages in `--documents` PDFs, on
the database at URL (a team's PostgreSQL, or a throwaway one), read by `--workers` worker
processes (each a `JobRunner` on its own connection, as separate console instances are)
against one local server with the simulated engine. Prints each worker's page count (every
page records the worker that read it), the total, the distinct pages (each page once: the
same number) and the server's answers (each page sent once: the same number again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter

import httpx

from console._store import Store
from console.jobs._store import JobStore
from console.jobs._uploads import NewDocument
from console.runtime import make_runner
from console.settings import ConsoleSettings
from ocr_core import ClientSettings, OCRClient
from ocr_core.bench._batch import build_pdf, simulated_server

DEADLINE_S = 600.0


def _answers(base_url: str) -> int:
    """Chat completions the server answered (its vLLM-named counter)."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("vllm:request_success_total")
        )
    )


async def _warm(base_url: str) -> None:
    """Wait for the server to answer (it loads for a moment after it starts)."""
    settings = ClientSettings(base_url=base_url, auth="none")
    async with OCRClient(settings=settings) as client:
        report = await client.warm_up(timeout=60)
    if not report.ready:
        raise RuntimeError(f"local server not ready: {report.error}")


def work(database_url: str, base_url: str, name: str, job_id: int, slots: int) -> None:
    """One worker: a runner that records `name` on its pages, until the job has ended."""
    store = Store(url=database_url)
    jobs = JobStore(store)
    settings = ClientSettings(base_url=base_url, auth="none", max_attempts=1, concurrency=slots)
    runner = make_runner(store, settings, revision=lambda: name, poll_s=0.1).start()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while (job := jobs.job(job_id)) is not None and job.active:
            if time.monotonic() > deadline:
                raise SystemExit(f"worker {name}: job {job_id} still {job.status}")
            time.sleep(0.1)
    finally:
        runner.stop()
        store.close()


def run(
    database_url: str,
    pages: int,
    documents: int,
    workers: int,
    service_time_s: float,
    slots: int,
) -> dict[str, int]:
    """Run the job with `workers` processes; returns pages per worker, total, distinct
    pages and the server's answers."""
    store = Store(url=database_url)
    jobs = JobStore(store)
    sizes = [pages // documents + (n < pages % documents) for n in range(documents)]
    files = [NewDocument(f"part{n:03d}.pdf", build_pdf(size)) for n, size in enumerate(sizes)]
    with simulated_server(service_time_s, slots) as base_url:
        asyncio.run(_warm(base_url))
        before = _answers(base_url)
        job_id = jobs.create_job(files, actor="bench", service_url="", name="bench-shared")
        started = time.perf_counter()
        worker = [sys.executable, "-m", "console.jobs.bench_shared"]
        worker += ["--database-url", database_url, "--job", str(job_id)]
        worker += ["--server", base_url, "--slots", str(slots)]
        processes = [
            subprocess.Popen([*worker, "--worker", f"worker-{n + 1}"]) for n in range(workers)
        ]
        codes = [process.wait(timeout=DEADLINE_S + 60) for process in processes]
        elapsed = time.perf_counter() - started
        answers = _answers(base_url) - before
    job = jobs.job(job_id)
    read = jobs.pages(job_id, with_text=False)
    store.close()
    by_worker = Counter(page.revision or "?" for page in read)
    figures = {
        **dict(sorted(by_worker.items())),
        "total": sum(by_worker.values()),
        "distinct": len({(page.document_id, page.index) for page in read}),
        "answers": answers,
    }
    capacity = slots / service_time_s
    print(
        f"job {job_id}: {pages} pages in {documents} PDFs, {workers} worker processes on "
        f"PostgreSQL; one simulated server, {slots} slots x {service_time_s:g} s/page "
        f"(capacity {capacity:.0f} pages/s); {os.cpu_count()} CPU cores, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    for name, count in sorted(by_worker.items()):
        print(f"  {name}: {count} pages")
    print(
        f"  total {figures['total']} pages, {figures['distinct']} distinct, "
        f"{answers} answered by the server; job {job.status if job else '?'} in "
        f"{elapsed:.1f} s ({pages / elapsed:.1f} pages/s); worker exits {codes}"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m console.jobs.bench_shared", description=__doc__
    )
    parser.add_argument(
        "--database-url",
        default=ConsoleSettings.from_env().database_url,
        help="PostgreSQL URL (default: LIGHTONOCR_DATABASE_URL)",
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--service-time", type=float, default=0.05, help="s per page")
    parser.add_argument("--slots", type=int, default=8)
    # A worker process of the bench (started by it).
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("a PostgreSQL --database-url is needed (SQLite runs one worker per job)")
    if args.worker:
        work(args.database_url, args.server, args.worker, args.job, args.slots)
        return 0
    run(args.database_url, args.pages, args.documents, args.workers, args.service_time, args.slots)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
