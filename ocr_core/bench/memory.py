"""`python -m ocr_core.bench.memory`: the local server's peak memory under ordinary load.

Starts `python -m ocr_core.server` (rapidocr, its defaults for this machine), sends `--pages`
page images of `--side` px (a scan and a blank page in turn) `--at-once` at a time as
streamed chat completions, and prints how many were answered and the server's peak RSS
(VmHWM) before and after (target: <= 1.2 GB for 64 pages at 2000 px, 8 at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

from ocr_core.bench.__main__ import DEFAULT_CORPUS
from ocr_core.bench._batch import free_port


def _peak_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    return 0


def _uri(page: Image.Image) -> str:
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pages(corpus: Path, side: int) -> list[str]:
    scan = Image.open(corpus / "scans" / "eurotext.tif").convert("RGB")
    scan.thumbnail((side, side))
    page = Image.new("RGB", (side * 3 // 4, side), "white")
    page.paste(scan, (0, 0))
    return [_uri(page), _uri(Image.new("RGB", page.size, "white"))]


async def _run(args: argparse.Namespace) -> None:
    uris = _pages(args.corpus, args.side)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ocr_core.server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            while True:
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            ready = _peak_mb(server.pid)
            gate = asyncio.Semaphore(args.at_once)

            async def one(n: int) -> int:
                body = {
                    "model": "lightonai/LightOnOCR-2-1B",
                    "messages": [
                        {
                            "role": "user",
                            "content": [{"type": "image_url", "image_url": {"url": uris[n % 2]}}],
                        }
                    ],
                    "stream": True,
                }
                async with gate:
                    return (await client.post("/v1/chat/completions", json=body)).status_code

            started = time.perf_counter()
            codes = await asyncio.gather(*(one(n) for n in range(args.pages)))
            seconds = time.perf_counter() - started
        print(
            f"{args.pages} pages at {args.side} px, {args.at_once} at a time: "
            f"{codes.count(200)} answered in {seconds:.0f} s; server peak RSS "
            f"{_peak_mb(server.pid)} MB (peak {ready} MB once ready; target <= 1200 MB)"
        )
    finally:
        server.terminate()
        server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.bench.memory", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--side", type=int, default=2000)
    parser.add_argument("--at-once", type=int, default=8)
    asyncio.run(_run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
