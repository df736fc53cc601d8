"""`python -m console.jobs.bench`: does the job runner keep `ocr_document`'s throughput?

Against one local server (simulated engine, 8 slots, a fixed service time per page), in one
run: an N-page PDF through `OCRClient.ocr_document` directly, then the same PDF as a job
through a `JobRunner` that writes every page to a SQLite store as it finishes. Prints
pages/s of both and the ratio (target >= 95 %). Best of `--repeat` runs each: the machine
is shared, and a neighbour's burst of CPU says nothing about the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from console._store import Store
from console.jobs._store import JobStore
from console.jobs._uploads import NewDocument
from console.runtime import make_runner
from ocr_core import ClientSettings, OCRClient
from ocr_core.bench._batch import build_pdf, simulated_server


def _settings(base_url: str, slots: int) -> ClientSettings:
    return ClientSettings(base_url=base_url, auth="none", max_attempts=1, concurrency=slots)


async def _direct(base_url: str, document: bytes, pages: int, slots: int) -> float:
    async with OCRClient(settings=_settings(base_url, slots)) as client:
        await client.models()  # a long-lived client, as the runner's is
        result = await client.ocr_document(document)
    assert result.failed_count == 0, f"{result.failed_count} pages failed"
    return pages / result.wall_time_s


def _through_runner(base_url: str, document: bytes, pages: int, slots: int) -> float:
    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as scratch:
        store = Store.in_dir(Path(scratch))
        jobs = JobStore(store)
        settings = _settings(base_url, slots)
        runner = make_runner(store, settings, poll_s=0.05).start()
        try:
            started = time.perf_counter()
            job_id = jobs.create_job(
                [NewDocument("bench.pdf", document)], actor="bench", service_url=base_url
            )
            runner.wake()
            while (job := jobs.job(job_id)) is not None and job.active:
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
        finally:
            runner.stop()
            store.close()
        assert job is not None and job.pages_done == pages, f"job ended as {job}"
        return pages / elapsed


def run(pages: int, service_time_s: float, slots: int, repeat: int) -> dict[str, float]:
    document = build_pdf(pages)
    direct: list[float] = []
    runner: list[float] = []
    with simulated_server(service_time_s, slots) as base_url:
        asyncio.run(_warm(base_url, slots))
        for _ in range(repeat):
            direct.append(asyncio.run(_direct(base_url, document, pages, slots)))
            runner.append(_through_runner(base_url, document, pages, slots))
    best_direct, best_runner = max(direct), max(runner)
    capacity = slots / service_time_s
    print(
        f"server: simulated engine, {slots} slots x {service_time_s:g} s/page -> capacity "
        f"{capacity:.1f} pages/s; {os.cpu_count()} CPU cores, load average "
        f"{os.getloadavg()[0]:.1f}; {pages}-page PDF; best of {repeat}"
    )
    print(
        "  runs (pages/s): direct "
        + ", ".join(f"{r:.2f}" for r in direct)
        + "; runner "
        + ", ".join(f"{r:.2f}" for r in runner)
    )
    print(f"  ocr_document directly           {best_direct:6.2f} pages/s")
    print(f"  job runner, every page stored   {best_runner:6.2f} pages/s")
    ratio = 100.0 * best_runner / best_direct
    print(f"runner / ocr_document: {ratio:.1f} % (target >= 95 %)")
    return {"direct": best_direct, "runner": best_runner, "ratio_pct": ratio}


async def _warm(base_url: str, slots: int) -> None:
    async with OCRClient(settings=_settings(base_url, slots)) as client:
        report = await client.warm_up(timeout=60)
        if not report.ready:
            raise RuntimeError(f"local server not ready: {report.error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.jobs.bench", description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--service-time", type=float, default=1.0, help="s per page")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    run(args.pages, args.service_time, args.slots, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
