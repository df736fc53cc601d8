"""Batch throughput: does `ocr_document` keep every server slot busy?

The local server runs the `simulated` engine: each page holds one of `slots` slots for a
fixed service time, so the server's capacity is exactly `slots / service_time_s` pages/s.
We time, in one run against that one server:

- `ocr_document` on an N-page PDF (pages rendered lazily, `slots` requests in flight);
- the same client one page at a time (concurrency 1), as a naive loop would;

and print pages/s, % of capacity (target >= 95 %) and the ratio to sequential (>= 7x).
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from .._client import OCRClient
from .._config import ClientSettings

# A one-at-a-time client needs service_time per page; this many pages make a stable figure.
SEQUENTIAL_PAGES = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_pdf(pages: int) -> bytes:
    """A scan-like PDF: each page an image of a letter-size sheet with a line of text."""
    sheets = []
    for number in range(1, pages + 1):
        sheet = Image.new("L", (850, 1100), 255)
        ImageDraw.Draw(sheet).text((80, 80), f"Page {number} of {pages}", fill=0)
        sheets.append(sheet)
    out = io.BytesIO()
    sheets[0].save(out, "PDF", save_all=True, append_images=sheets[1:], resolution=100.0)
    return out.getvalue()


def _start_server(port: int, service_time_s: float, slots: int, log: Path) -> subprocess.Popen:
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
        str(service_time_s),
        "--max-num-seqs",
        str(slots),
    ]
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the server
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


async def _measure(
    base_url: str, document: bytes, sequential_document: bytes, slots: int
) -> tuple[float, float, int]:
    settings = ClientSettings(base_url=base_url, auth="none", max_attempts=1)
    async with OCRClient(settings=settings) as warm:
        report = await warm.warm_up(timeout=60)
        if not report.ready:
            raise RuntimeError(f"local server not ready: {report.error}")
    async with OCRClient(settings=settings, concurrency=slots) as client:
        await client.models()
        batch = await client.ocr_document(document)
    async with OCRClient(settings=settings, concurrency=1) as client:
        await client.models()
        sequential = await client.ocr_document(sequential_document)
    failed = batch.failed_count + sequential.failed_count
    return batch.wall_time_s, sequential.wall_time_s, failed


def run(pages: int = 64, service_time_s: float = 0.25, slots: int = 8) -> dict[str, float]:
    """Measure and print; returns the figures (pages/s, % of capacity, ratio to sequential)."""
    sequential_pages = min(pages, SEQUENTIAL_PAGES)
    document = build_pdf(pages)
    sequential_document = build_pdf(sequential_pages)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as scratch:
        log = Path(scratch) / "server.log"
        server = _start_server(port, service_time_s, slots, log)
        try:
            batch_s, sequential_s, failed = asyncio.run(
                _measure(f"http://127.0.0.1:{port}", document, sequential_document, slots)
            )
        except Exception:
            sys.stderr.write(log.read_text(errors="replace")[-2000:])
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    capacity = slots / service_time_s
    batch_rate = pages / batch_s
    sequential_rate = sequential_pages / sequential_s
    figures = {
        "pages": float(pages),
        "service_time_s": service_time_s,
        "slots": float(slots),
        "capacity_pages_per_s": capacity,
        "batch_pages_per_s": batch_rate,
        "sequential_pages_per_s": sequential_rate,
        "batch_pct_of_capacity": 100.0 * batch_rate / capacity,
        "batch_vs_sequential": batch_rate / sequential_rate,
        "failed_pages": float(failed),
    }
    cores = os.cpu_count() or 1
    print(
        f"server: simulated engine, {slots} slots x {service_time_s:g} s/page "
        f"-> capacity {capacity:.1f} pages/s ({cores} CPU cores here)"
    )
    print(f"ocr_document, {pages} pages:        {batch_rate:6.1f} pages/s in {batch_s:.2f} s")
    print(
        f"one page at a time, {sequential_pages} pages:  {sequential_rate:6.1f} pages/s "
        f"in {sequential_s:.2f} s"
    )
    print(
        f"batch = {figures['batch_pct_of_capacity']:.1f} % of capacity (target >= 95 %), "
        f"{figures['batch_vs_sequential']:.1f}x sequential (target >= 7x), "
        f"{failed} failed pages"
    )
    return figures
