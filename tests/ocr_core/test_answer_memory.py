"""A huge streamed answer costs the client memory for its bound, not for the stream.

The client runs in a child process of its own, so its peak resident memory (ru_maxrss) is
the page's alone: a first, normal page sets the baseline, then the server streams deltas
without end (up to 1 GiB). The figures are printed (`pytest -s`); only memory is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.fault_server import FaultServer

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, json, resource, sys, time
from ocr_core import ClientSettings, OCRClient
from tests.fakes.inputs import png

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

async def main():
    settings = ClientSettings(max_attempts=1, rerun_runaway=True)
    async with OCRClient(sys.argv[1], settings=settings) as ocr:
        first = await ocr.ocr_image(png("red"))
        before = peak_mib()
        started = time.perf_counter()
        page = await ocr.ocr_image(png("red"))
        seconds = time.perf_counter() - started
    print(json.dumps({
        "first_ok": first.ok, "error": type(page.error).__name__, "text_chars": len(page.text),
        "peak_before_mib": before, "peak_after_mib": peak_mib(), "seconds": seconds,
    }))

asyncio.run(main())
"""


def test_a_huge_stream_is_refused_with_the_client_memory_bounded(server: FaultServer) -> None:
    server.script("ok", "endless_deltas")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, server.base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    growth = figures["peak_after_mib"] - figures["peak_before_mib"]
    print(
        f"\nendless stream: refused as {figures['error']} after the server sent "
        f"{server.sent_bytes / 2**20:.1f} MiB in {figures['seconds']:.2f} s; client peak RSS "
        f"{figures['peak_before_mib']:.0f} -> {figures['peak_after_mib']:.0f} MiB "
        f"(+{growth:.1f} MiB)"
    )
    assert figures["first_ok"]
    assert figures["error"] == "AnswerTooLarge"
    assert figures["text_chars"] == 0
    # The bound is 1 Mi characters (4,096 tokens x 256): a few MiB of strings at most.
    assert growth < 64
