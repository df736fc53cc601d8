"""`python -m console.jobs.bench_words`: what locating words costs a job.

Against the local server with the embedded engine (what the console runs by default), in
one run: an N-page TIFF of the corpus's scans as a job without words, then the same as a
job with words (`locate_words`). A job is done when its text is and its words follow, so the
job with words prints two times: its text done (the job's status) and its words done (every
read page located). Also the locating seconds per page, pages located per second per core,
the share of the pages' words that got a box, and how long the searchable PDF, hOCR and
ALTO of the job take to write and how large they are.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from console._store import Store
from console.jobs._store import JobStore
from console.jobs._uploads import NewDocument
from console.jobs._word_files import job_word_files
from console.runtime import make_runner
from ocr_core import ClientSettings
from ocr_core.bench._batch import free_port

SCANS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "scans"


def scans_tiff(pages: int) -> bytes:
    """The corpus's scans, repeated to `pages` pages, as one multi-page TIFF."""
    sources = [Image.open(SCANS / name).convert("L") for name in ("phototest.tif", "eurotext.tif")]
    sheets = [sources[n % len(sources)] for n in range(pages)]
    out = io.BytesIO()
    sheets[0].save(out, "TIFF", save_all=True, append_images=sheets[1:], compression="tiff_lzw")
    return out.getvalue()


def _job(
    base_url: str, document: bytes, scratch: Path, *, words: bool
) -> tuple[float, float, JobStore, int, Store]:
    """(seconds to the job's text done, seconds to its words done, ...)."""
    store = Store.in_dir(scratch)
    jobs = JobStore(store)
    settings = ClientSettings(base_url=base_url, auth="none", max_attempts=2)
    runner = make_runner(store, settings, poll_s=0.05).start()
    try:
        started = time.perf_counter()
        job_id = jobs.create_job(
            [NewDocument("scans.tif", document)],
            actor="bench",
            service_url=base_url,
            locate_words=words,
        )
        runner.wake()
        while (job := jobs.job(job_id)) is not None and job.active:
            time.sleep(0.05)
        text_done = time.perf_counter() - started
        while words and (job := jobs.job(job_id)) is not None and not job.words_ready:
            time.sleep(0.05)
        words_done = time.perf_counter() - started
    finally:
        runner.stop()
    return text_done, words_done, jobs, job_id, store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as scratch:
        server = subprocess.Popen(
            [sys.executable, "-m", "ocr_core.server", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            document = scans_tiff(args.pages)
            root = Path(scratch)
            _job(base_url, scans_tiff(2), root / "warm", words=True)[4].close()  # both engines
            plain, _, _, _, store = _job(base_url, document, root / "plain", words=False)
            store.close()
            text, located, jobs, job_id, store = _job(
                base_url, document, root / "words", words=True
            )
            stored = jobs.words.job(job_id)
            per_page = [w.seconds for w in stored.values()]
            boxed = [w.words.located_share for w in stored.values() if w.words is not None]
            started = time.perf_counter()
            (files,) = job_word_files(jobs, job_id, ["pdf", "hocr", "alto"])
            exported = time.perf_counter() - started
            store.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.pages} scanned pages through the local server's embedded engine")
    cores = os.cpu_count() or 1
    print(f"  job without words: text done {plain:.1f} s ({plain / args.pages:.2f} s/page)")
    print(
        f"  job with words:    text done {text:.1f} s ({text / args.pages:.2f} s/page), "
        f"words done {located:.1f} s ({located / args.pages:.2f} s/page)"
    )
    median = statistics.median(per_page)
    print(
        f"  locating: {len(per_page)} pages, median {median:.2f} s/page "
        f"({1 / median / cores:.2f} pages/s per core on {cores} cores, one page at a time), "
        f"max {max(per_page):.2f} s; {statistics.mean(boxed):.1%} of words got a box"
    )
    sizes = ", ".join(f"{ext} {len(data) / 1e6:.2f} MB" for ext, data in files.files.items())
    print(
        f"  searchable PDF, hOCR and ALTO of the {args.pages} pages: {exported:.1f} s; {sizes} "
        f"(the scans: {len(document) / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
