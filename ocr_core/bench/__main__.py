"""`python -m ocr_core.bench`: the issue's targets, measured side by side in one run.

1. Page preparation (load, render, encode) ms/page: the naive path (render, PNG at default
   settings) vs ours, over the corpus, with the CER of both encodings through the local engine.
2. Batch throughput: `ocr_document` vs a one-page-at-a-time client, against the local server
   with 8 slots and a fixed simulated service time per page.
3. Quality of the local engine: word F1, reading-order CER and s/page on the corpus scans,
   300-dpi renders of the digital PDFs and synthetic forms, contents and turned pages,
   with each engine lever switched on in turn, seconds per page beside F1 and CER (slow:
   about 15 pages x 8 levers; `--levers 7,8` compares the last two).

`--peer tesseract` runs instead the peer bench (`_peer`): Debian's tesseract and the
embedded engine on the same pages, word F1, recall, reading-order CER, s/page, peak memory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.bench", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--only", choices=("prep", "batch", "quality"), default=None)
    parser.add_argument("--repeat", type=int, default=3, help="prep: passes over the corpus")
    parser.add_argument("--pages", type=int, default=64, help="batch: pages in the document")
    # 1 s a page is on the fast side of LightOnOCR-2-1B on one L4 with 8 sequences in flight;
    # shorter times measure this machine's ~20 ms request round trip more than the client.
    parser.add_argument("--service-time", type=float, default=1.0, help="batch: s per page")
    parser.add_argument(
        "--preferred-side", type=int, default=2000, help="quality: the larger input size tried"
    )
    parser.add_argument(
        "--quality-pages", default="", help="quality: comma-separated parts of page names to keep"
    )
    parser.add_argument(
        "--levers", default="", help="quality: comma-separated lever numbers to run (all if empty)"
    )
    parser.add_argument(
        "--peer",
        choices=("tesseract",),
        default=None,
        help="only the peer bench: the embedded engine beside this tool on the same pages "
        "(--quality-pages keeps a few)",
    )
    parser.add_argument(
        "--real",
        type=Path,
        default=None,
        help="peer: also the real multi-column scans of this checkout of the public "
        "scribeocr/ocr-benchmark repository (its img/ and ground_truth/)",
    )
    args = parser.parse_args(argv)
    if args.peer:
        from ocr_core.bench import _peer

        print(f"== the embedded engine beside {args.peer} ==", flush=True)
        only = [part for part in args.quality_pages.split(",") if part]
        _peer.run(args.corpus, args.preferred_side, only, args.real)
        return 0

    if args.only in (None, "prep"):
        from ocr_core.bench import _prep

        print("== page preparation ==", flush=True)
        _prep.run(args.corpus, repeat=args.repeat)
    if args.only in (None, "batch"):
        from ocr_core.bench import _batch

        print("\n== batch throughput ==", flush=True)
        _batch.run(pages=args.pages, service_time_s=args.service_time, slots=8)
    if args.only in (None, "quality"):
        from ocr_core.bench import _quality

        print("\n== local engine quality ==", flush=True)
        only = [part for part in args.quality_pages.split(",") if part]
        numbers = [int(n) for n in args.levers.split(",") if n.strip()]
        _quality.run(
            args.corpus, preferred_side=args.preferred_side, only_pages=only, only_levers=numbers
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
