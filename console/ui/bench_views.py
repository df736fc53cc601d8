"""`python -m console.ui.bench_views`: the UI's CPU per workbench view, by job size.

Ten people opening the workbench during a 200-page job took 61 % of a core in the UI
process, and first loads over two minutes on two cores (issue 36). A view must cost about
the same whatever the size of the job it shows. This seeds a store with a job of `--small`
pages and one of `--pages` pages (each page ~1.5 KB of text, as a dense scan reads), then
runs the workbench page in Streamlit's AppTest on each, in this process, and prints the CPU
seconds (`time.process_time`) of a first view (a new session) and of a rerun (the same
session, as a click or the progress refresh), with their ratio large/small side by side.
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from streamlit.testing.v1 import AppTest

from console._store import Store
from console.jobs import DocumentState, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from console.platforms.local import LocalPlatform
from console.service import Operations
from console.ui._state import install_operations
from console.ui._workbench import load_view
from ocr_core import PageResult

WORKBENCH = Path(__file__).resolve().parent / "views" / "workbench.py"
PAGE_TEXT = ("The borrower agrees to repay the principal with interest as set out below. " * 20)[
    :1500
]


def _pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(300, 400)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def seed_job(jobs: JobStore, pages: int) -> int:
    """A finished job of one document of `pages` read pages, written as the runner writes."""
    job_id = jobs.create_job(
        [NewDocument(f"loan-{pages}.pdf", _pdf(pages))], actor="bench", service_url="local"
    )
    ledger = JobLedger(jobs.store)
    [document] = jobs.documents(job_id)
    ledger.set_document(document.id, DocumentState.OPENED, pages)
    now = time.time()
    for index in range(pages):
        page = PageResult(index, text=f"Page {index + 1}\n\n{PAGE_TEXT}", latency_s=1.2)
        ledger.save_page(
            job_id, document.id, page, request_id=None, revision="bench", started_at=now
        )
    return job_id


def _cpu(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def measure(job_id: int, views: int) -> tuple[float, float]:
    """(median CPU s of a first view, median CPU s of a rerun) of the workbench on `job_id`."""
    first, rerun = [], []
    for _ in range(views):
        at = AppTest.from_file(str(WORKBENCH), default_timeout=300)
        at.query_params["job"] = str(job_id)
        first.append(_cpu(at.run))
        rerun.append(_cpu(at.run))
        assert not at.exception, at.exception
    return statistics.median(first), statistics.median(rerun)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m console.ui.bench_views")
    parser.add_argument("--pages", type=int, default=3000, help="pages of the large job")
    parser.add_argument("--small", type=int, default=30, help="pages of the small job")
    parser.add_argument("--views", type=int, default=5, help="views measured per job")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="views-bench-") as scratch:
        data = Path(scratch)
        platform = LocalPlatform(port=1, data_dir=data, store=Store.in_dir(data), background=False)
        operations = Operations(platform, platform.store, actor="bench")
        install_operations(operations)
        jobs = operations.jobs
        seeded = time.monotonic()
        small, large = seed_job(jobs, args.small), seed_job(jobs, args.pages)
        print(f"seeded {args.small} + {args.pages} pages in {time.monotonic() - seeded:.1f} s")
        figures = {
            size: measure(job, args.views)
            for size, job in ((args.small, small), (args.pages, large))
        }
        print(f"{'pages in the job':>18} {'first view CPU s':>18} {'rerun CPU s':>12}")
        for size, (first, rerun) in figures.items():
            print(f"{size:>18} {first:>18.3f} {rerun:>12.3f}")
        (small_first, small_rerun), (large_first, large_rerun) = figures.values()
        refresh = {
            size: statistics.median(
                _cpu(functools.partial(load_view, jobs, job)) for _ in range(args.views)
            )
            for size, job in ((args.small, small), (args.pages, large))
        }
        print(
            "the progress refresh's read (every second per open workbench while a job runs): "
            + ", ".join(f"{size} pages {cpu:.3f} s" for size, cpu in refresh.items())
        )
        print(
            f"ratio {args.pages}/{args.small} pages: first view x{large_first / small_first:.2f}, "
            f"rerun x{large_rerun / small_rerun:.2f} (1.0 = independent of the job's size)"
        )
        install_operations(None)
        platform.close()


if __name__ == "__main__":
    main()
