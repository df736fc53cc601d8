"""Quality of the local engine: word F1, reading-order CER and seconds per page, lever by lever.

Pages go through the client's own preparation (`load_document` at the chosen longest side,
then the JPEG the client sends) and into the engine, so a row measures what a user of the
local server gets. The levers are switched on one after another, so each row shows what
the lever it adds is worth:

1. before: the recogniser's greedy path alone decides spaces, lines are flipped one by one
   by the 0/180 classifier, every gutter makes columns, pages are read as they come;
2. spaces from the space class (`_recognize`);
3. crops read as cut, the page turned as a whole (`_orientation`);
4. rows that share a baseline across a gutter kept as rows (`_layout`);
5. each line read on its own, not padded to the widest line of a batch of six (`_recognize`);
6. the input size the server prefers instead of the card's 1540 px;
7. small text kept: a box read below the score bar and alone in its row read again with a
   margin, and ink no box covers, alone in its row, read as lone marks (`_engine`: the page
   numbers of multicolumn.pdf pages 1 and 3 and of minimal-document.pdf were lost);
8. skewed scans straightened: the reading order of a page 1.5 degrees off square is found
   on its boxes turned back by its skew (`_skew`), or its columns' gutters close and it
   reads row by row across them;
9. onnxruntime sessions sized to the machine (no spinning threads, one thread per line
   read) and a page's lines read side by side on the cores (`_engine`, `_recognize`);
10. detection sized to the type: a page of large type is detected at a reduced size, its
   lines still cut from the full page (`_page_geometry.detection_scale`);
11. one detection for an upside-down page: the detection that found it so is turned with
   the page instead of the turned page being detected again;
12. word spaces from the ink: a blank run of a line's ink as wide as its own word spaces,
   between two letters the recogniser wrote joined, is a space (`_recognize`).

Each lever's engine is primed (`Engine.prime`) before its pages are timed, so seconds per
page are a warm server's; the speed levers are judged by that column beside F1 and CER.

Pages: the corpus's ground-truth scans, digital PDFs rendered as 300-dpi greyscale scans
(their own text layer is the ground truth), and synthetic pages whose reading is known (a
form, a table of contents, a letter, the letter turned 90, 180 and 270 degrees, a dense
three-column page of small type, a magazine page with a picture and its caption, and both
of those scanned 1.5 degrees off square, and a second magazine page made after the layout
was tuned on the first: its third column runs beside a picture over the other two).
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image

from .._config import DocumentSettings
from .._documents import load_document
from ._pages import synthetic_pages
from ._score import Score, score
from ._wrap_pages import wrap_pages

SCAN_DPI = 300
# Digital PDFs of the corpus, the pages used, and the corpus's published password.
PDF_PAGES = {
    "multicolumn.pdf": (0, 1, 2),
    "minimal-document.pdf": (0,),
    "libreoffice-writer-password.pdf": (0,),
    "pdflatex-4-pages.pdf": (0,),
}
PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword"}
CARD_SIDE = 1540
HYPHEN_AT_LINE_END = "\ufffe"


@dataclass(frozen=True, slots=True)
class Case:
    """One page: the file bytes a user would upload and the text it holds, in reading order."""

    name: str
    group: str
    data: bytes = field(repr=False)
    truth: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Lever:
    """One row of the table: engine options and the longest side pages are prepared at."""

    label: str
    options: dict[str, Any]
    longest_side: int = CARD_SIDE


def levers(preferred_side: int) -> list[Lever]:
    before = {
        "space_probability": 1.0,
        "flip_lines": True,
        "orient": False,
        "tables": False,
        "padded_batches": True,
        "small_text": False,
        "tuned": False,
        "sized_detection": False,
        "turn_detection": False,
        "deskew": False,
        "ink_spaces": False,
    }
    spaces = {**before, "space_probability": None}
    orient = {**spaces, "flip_lines": False, "orient": True}
    tables = {**orient, "tables": True}
    unpadded = {**tables, "padded_batches": False}
    small = {**unpadded, "small_text": True}
    square = {**small, "deskew": True}
    tuned = {**square, "tuned": True}
    sized = {**tuned, "sized_detection": True}
    reused = {**sized, "turn_detection": True}
    inked = {**reused, "ink_spaces": True}
    clean = [
        {k: v for k, v in opts.items() if v is not None}
        for opts in (spaces, orient, tables, unpadded, small, square, tuned, sized, reused, inked)
    ]
    return [
        Lever("before (1540 px)", before),
        Lever("+ spaces from the space class", clean[0]),
        Lever("+ page turned whole, crops as cut", clean[1]),
        Lever("+ rows kept across gutters", clean[2]),
        Lever("+ lines read unpadded", clean[3]),
        Lever(f"+ preferred size {preferred_side} px", clean[3], preferred_side),
        Lever("+ small text kept", clean[4], preferred_side),
        Lever("+ skewed scans straightened", clean[5], preferred_side),
        Lever("+ sessions sized to the machine", clean[6], preferred_side),
        Lever("+ detection sized to the type", clean[7], preferred_side),
        Lever("+ one detection for an upside-down page", clean[8], preferred_side),
        Lever("+ word spaces from the ink", clean[9], preferred_side),
    ]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def corpus_cases(corpus: Path) -> list[Case]:
    cases: list[Case] = []
    for truth in sorted((corpus / "scans").glob("*.txt")):
        for scan in sorted(truth.parent.glob(truth.stem + ".*")):
            if scan.suffix != ".txt":
                text = truth.read_text(encoding="utf-8")
                cases.append(Case(scan.name, "scan", scan.read_bytes(), text))
                break
    for name, indices in PDF_PAGES.items():
        path = corpus / "pdf" / name
        if not path.exists():
            continue
        pdf = pdfium.PdfDocument(path, password=PASSWORDS.get(name))
        try:
            for index in indices:
                page = pdf[index]
                text = page.get_textpage().get_text_range().replace("\r\n", "\n")
                # pdfium writes a hyphen it finds at a line's end as U+FFFE and joins the two
                # lines ("adip\ufffeiscing"); the page prints "adip-", then "iscing" below.
                text = text.replace(HYPHEN_AT_LINE_END, "-\n")
                scan = page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil()
                cases.append(Case(f"{name}#{index + 1}", "pdf@300dpi", _png(scan), text))
        finally:
            pdf.close()
    for page in synthetic_pages():
        cases.append(Case(page.name, _synthetic_group(page.name), _png(page.image), page.truth))
    for page in wrap_pages():  # columns around a picture set between them (issue 34)
        cases.append(Case(page.name, "wrap", _png(page.image), page.truth))
    return cases


def _synthetic_group(name: str) -> str:
    """The group a synthetic page is scored in, read from the marks in its name."""
    if "@" in name:
        return "turned"
    if "~" in name:
        return "skewed"
    return "dense" if name == "dense" else "layout"


def prepared(case: Case, longest_side: int) -> Image.Image:
    """The page as the server receives it from the client: fitted, sent as JPEG, decoded."""
    settings = DocumentSettings(longest_side=longest_side)
    with load_document(case.data, settings=settings) as document:
        encoded = document.page(0).encode()
    image = Image.open(io.BytesIO(encoded.data))
    image.load()
    return image


def measure(cases: list[Case], lever: Lever) -> list[tuple[Score, float]]:
    from ..server._engine import RapidOcrEngine  # server extra: rapidocr + onnxruntime

    engine = RapidOcrEngine(**lever.options)
    engine.prime()  # as the server does before it says ready: pages are timed warm
    results = []
    for case in cases:
        image = prepared(case, lever.longest_side)
        started = time.perf_counter()
        text = engine.read(image).text
        results.append((score(case.truth, text), time.perf_counter() - started))
    return results


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(
    corpus: Path,
    preferred_side: int = 2000,
    only_pages: list[str] | None = None,
    only_levers: list[int] | None = None,
) -> dict[str, dict[str, float]]:
    """Print per-page and per-group figures for every lever; return the group means.

    `only_pages` keeps the pages whose name contains one of these strings; `only_levers`
    keeps these rows (numbered from 1), for a quick before/after of the last ones.
    """
    cases = corpus_cases(corpus)
    if only_pages:
        cases = [c for c in cases if any(part in c.name for part in only_pages)]
    numbered = list(enumerate(levers(preferred_side), start=1))
    if only_levers:
        numbered = [(n, lever) for n, lever in numbered if n in only_levers]
    table: dict[str, list[tuple[Score, float]]] = {}
    for _, lever in numbered:
        print(f"measuring: {lever.label} ...", flush=True)
        table[lever.label] = measure(cases, lever)
    print("\nword F1 / reading-order CER / seconds per page, one column per lever (cumulative)")
    print(f"{'page':34} " + " ".join(f"{'L' + str(n):>17}" for n, _ in numbered))
    for index, case in enumerate(cases):
        cells = (table[lever.label][index] for _, lever in numbered)
        print(
            f"{case.name[:34]:34} "
            + " ".join(f"{s.f1:5.3f}/{s.cer:5.3f}/{t:5.1f}" for s, t in cells)
        )
    print("\nper group: word F1, word recall, reading-order CER, lost lines, s/page (median, mean)")
    groups = list(dict.fromkeys(case.group for case in cases))
    summary: dict[str, dict[str, float]] = {}
    for number, lever in numbered:
        print(f"L{number} {lever.label}")
        for group in groups:
            picked = [r for c, r in zip(cases, table[lever.label], strict=True) if c.group == group]
            figures = {
                "f1": _mean([s.f1 for s, _ in picked]),
                "recall": _mean([s.recall for s, _ in picked]),
                "cer": _mean([s.cer for s, _ in picked]),
                "lost_lines": float(sum(s.lost_lines for s, _ in picked)),
                "lines": float(sum(s.lines for s, _ in picked)),
                "s_per_page": _mean([seconds for _, seconds in picked]),
                "median_s_per_page": _median([seconds for _, seconds in picked]),
            }
            summary[f"L{number} {group}"] = figures
            print(
                f"   {group:11} F1 {figures['f1']:.3f}  recall {figures['recall']:.3f}  "
                f"CER {figures['cer']:.3f}  lost {figures['lost_lines']:.0f}/"
                f"{figures['lines']:.0f} lines  {figures['median_s_per_page']:.1f} s/page "
                f"(mean {figures['s_per_page']:.1f})"
            )
    return summary
