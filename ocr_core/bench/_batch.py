"""Batch throughput: does `ocr_document` keep every server slot busy?

The local server runs the `simulated` engine: each page holds one of `slots` slots for a
fixed service time, so the server's capacity is exactly `slots / service_time_s` pages/s.
We time, in one run against that one server:

- `ocr_document` on an N-page PDF (pages rendered lazily, `slots` requests in flight);
- the same with a couple of requests more than slots in flight, queued at the server;
- the same client one page at a time (concurrency 1), as a naive loop would;

and print pages/s, % of capacity (target >= 95 %) and the ratio to sequential (>= 7x).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from .._client import OCRClient
from .._config import ClientSettings

# A one-at-a-time client needs service_time per page; this many pages make a stable figure.
SEQUENTIAL_PAGES = 12
# Requests beyond the server's slots wait in its queue, so no slot idles while the next
# request crosses the network and is decoded; the client's default equals the slots.
PIPELINE_EXTRA = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


def _start_server(
    port: int, service_time_s: float, slots: int, log: Path
) -> subprocess.Popen[bytes]:
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


@contextlib.contextmanager
def simulated_server(service_time_s: float, slots: int) -> Iterator[str]:
    """The local server with the simulated engine on a free loopback port; yields its URL.

    Its log goes to a file (a full pipe would stall it) and is shown when the block fails.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as scratch:
        log = Path(scratch) / "server.log"
        server = _start_server(port, service_time_s, slots, log)
        try:
            yield f"http://127.0.0.1:{port}"
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


@dataclass(frozen=True, slots=True)
class _Runs:
    """Best observed rate per client configuration (pages/s), over the repeats."""

    batch: float
    pipelined: float
    sequential: float
    failed_pages: int


async def _rate(base_url: str, document: bytes, pages: int, concurrency: int) -> tuple[float, int]:
    settings = ClientSettings(
        base_url=base_url, auth="none", max_attempts=1, concurrency=concurrency
    )
    async with OCRClient(settings=settings) as client:
        await client.models()  # connection and max_model_len ready, as in a long-lived client
        result = await client.ocr_document(document)
    return pages / result.wall_time_s, result.failed_count


async def _measure(
    base_url: str, pages: int, sequential_pages: int, slots: int, repeat: int
) -> _Runs:
    async with OCRClient(settings=ClientSettings(base_url=base_url, auth="none")) as warm:
        report = await warm.warm_up(timeout=60)
        if not report.ready:
            raise RuntimeError(f"local server not ready: {report.error}")
    document, short_document = build_pdf(pages), build_pdf(sequential_pages)
    rates: dict[str, list[float]] = {"batch": [], "pipelined": [], "sequential": []}
    failed = 0
    for _ in range(repeat):
        for name, doc, count, concurrency in (
            ("batch", document, pages, slots),
            ("pipelined", document, pages, slots + PIPELINE_EXTRA),
            ("sequential", short_document, sequential_pages, 1),
        ):
            rate, failures = await _rate(base_url, doc, count, concurrency)
            rates[name].append(rate)
            failed += failures
    print(
        "  runs (pages/s): "
        + "; ".join(
            f"{name} " + ", ".join(f"{r:.1f}" for r in values) for name, values in rates.items()
        )
    )
    return _Runs(max(rates["batch"]), max(rates["pipelined"]), max(rates["sequential"]), failed)


def run(
    pages: int = 64, service_time_s: float = 1.0, slots: int = 8, *, repeat: int = 2
) -> dict[str, float]:
    """Measure and print; returns the figures (pages/s, % of capacity, ratio to sequential).

    Each configuration runs `repeat` times and the best run counts: the machine is shared,
    and a neighbour's burst of CPU says nothing about the client.
    """
    sequential_pages = min(pages, SEQUENTIAL_PAGES)
    load_before = os.getloadavg()[0]
    with simulated_server(service_time_s, slots) as base_url:
        runs = asyncio.run(_measure(base_url, pages, sequential_pages, slots, repeat))

    capacity = slots / service_time_s
    figures = {
        "pages": float(pages),
        "service_time_s": service_time_s,
        "slots": float(slots),
        "capacity_pages_per_s": capacity,
        "batch_pages_per_s": runs.batch,
        "pipelined_pages_per_s": runs.pipelined,
        "sequential_pages_per_s": runs.sequential,
        "batch_pct_of_capacity": 100.0 * runs.batch / capacity,
        "pipelined_pct_of_capacity": 100.0 * runs.pipelined / capacity,
        "batch_vs_sequential": runs.batch / runs.sequential,
        "pipelined_vs_sequential": runs.pipelined / runs.sequential,
        "failed_pages": float(runs.failed_pages),
    }
    print(
        f"server: simulated engine, {slots} slots x {service_time_s:g} s/page "
        f"-> capacity {capacity:.1f} pages/s; {os.cpu_count()} CPU cores, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"best of {repeat}"
    )
    rows = (
        (f"ocr_document, concurrency {slots}", pages, runs.batch),
        (f"ocr_document, concurrency {slots + PIPELINE_EXTRA}", pages, runs.pipelined),
        ("one page at a time", sequential_pages, runs.sequential),
    )
    for label, count, rate in rows:
        print(
            f"  {label:<32} {count:3d} pages {rate:6.1f} pages/s "
            f"{100.0 * rate / capacity:5.1f} % of capacity "
            f"{rate / runs.sequential:5.1f}x sequential"
        )
    print(f"targets: >= 95 % of capacity, >= 7x sequential; {runs.failed_pages} failed pages")
    return figures
