"""Word boxes on a page image, read by the embedded engine in a sandbox worker.

The recogniser reads lines, but its CTC timesteps say where each of its words was seen
(`server/_lines.py`); a line is cut into word boxes at the widest blank columns between
them, each box trimmed to its word's ink and spanning its line's type. `ocr_core._locate`
aligns a service's words to these.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page pixels, y grows down
Pixels = tuple[int, int, bytes]  # width, height and the RGB bytes of a page image


def _proportional(line_box: Box, text: str) -> list[tuple[str, Box]]:
    """The line's words with boxes cut in proportion to their characters (a first guess)."""
    x0, y0, x1, y1 = line_box
    per_char = (x1 - x0) / max(len(text), 1)
    return [
        (m.group(), (x0 + m.start() * per_char, y0, x0 + m.end() * per_char, y1))
        for m in re.finditer(r"\S+", text)
    ]


_engine: Any = None


def read_word_boxes(
    pixels: Pixels, words: Sequence[str] | None = None, unread: bool = True
) -> list[tuple[Box, str, list[Box]]]:
    """In the worker: the page's lines (engine kept), each with its words' boxes. Given the
    service's `words`, lines are anchored on them (placed by their widths where they fit
    when `unread`) and only lines that cannot be are read whole (`_anchored`); without
    them, every line is read."""
    global _engine
    import numpy as np

    from ._anchored import anchored_lines
    from .server._engine import RapidOcrEngine
    from .server._lines import read_lines
    from .server._page_geometry import ink

    if _engine is None:
        _engine = RapidOcrEngine(orient=False, small_text=False)
    width, height, data = pixels
    rgb = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    dark = ink(bgr)
    if words is not None:
        return anchored_lines(_engine, bgr, dark, words, unread=unread).lines
    found = []
    for b, spans in read_lines(_engine, bgr):
        box = (b.x0, b.y0, b.x1, b.y1)
        found.append((box, b.text, cut_at_ink(dark, box, b.text, spans)))
    return found


def blank_runs(inked: list[bool]) -> list[tuple[int, int]]:
    """Runs of columns without ink: (start, end), end exclusive."""
    runs: list[tuple[int, int]] = []
    start = None
    for col, has_ink in enumerate(inked):
        if not has_ink and start is None:
            start = col
        elif has_ink and start is not None:
            runs.append((start, col))
            start = None
    return runs


def own_band(inked_rows: list[bool], ink_per_row: list[int]) -> tuple[int, int]:
    """The run of inked rows (start, end) that holds the most ink; all rows if none."""
    bands, start = [], None
    for row, has_ink in enumerate([*inked_rows, False]):
        if has_ink and start is None:
            start = row
        elif not has_ink and start is not None:
            bands.append((start, row))
            start = None
    if not bands:
        return 0, len(inked_rows)
    return max(bands, key=lambda band: sum(ink_per_row[band[0] : band[1]]))


def _type_rows(
    words: list[tuple[float, float]], fallback: tuple[float, float]
) -> tuple[float, float]:
    """The rows the line's type spans: from its words' ascenders to their descenders, read
    from the words' own ink so that ink of a neighbouring line reaching into the detected
    box does not stretch them (a quarter of the words may lack ascenders or descenders)."""
    if not words:
        return fallback
    tops = sorted(top for top, _ in words)
    bottoms = sorted(bottom for _, bottom in words)
    return tops[len(tops) // 4], bottoms[-1 - len(bottoms) // 4]


def cut_at_ink(
    dark: Any, line_box: Box, text: str, spans: Sequence[tuple[float, float]] = ()
) -> list[Box]:
    """The line's word boxes on its ink.

    Each boundary between two words is the widest blank column run between where the
    recogniser saw the one word end and the next begin (`spans`, page x); without spans
    (or when they do not match the words), near where the characters' share of the line
    puts it. Each word is then trimmed to its own ink, and spans the line's type rows
    (`_type_rows`): a word without ascenders ("a", "no") still spans the line, as a
    reader's (and the PDF's) word box does."""
    import numpy as np

    pieces = _proportional(line_box, text)
    x0, y0, x1, y1 = (round(v) for v in line_box)
    x0, y0 = max(x0, 0), max(y0, 0)
    strip = np.asarray(dark[y0:y1, x0:x1])
    if strip.size == 0 or not pieces:
        return [box for _, box in pieces]
    # A detected box often reaches into the lines above and below: keep the band of rows
    # holding most of the box's ink, the line's own.
    rows: Any = strip.any(axis=1)
    band0, band1 = own_band(rows.tolist(), strip.sum(axis=1).tolist())
    strip = strip[band0:band1]
    y0 += band0
    inked: Any = strip.any(axis=0)
    gaps = blank_runs(inked.tolist())
    width = float(x1 - x0)
    use_spans = len(spans) == len(pieces)
    per_char = width / max(len(text), 1)
    cuts = [0.0]
    for k, ((_, before), (_, after)) in enumerate(itertools.pairwise(pieces)):
        if use_spans:
            low, high = spans[k][1] - x0, spans[k + 1][0] - x0
            if high < low:
                low, high = high, low
            near = [g for g in gaps if g[1] > low and g[0] < high]
            expected = (low + high) / 2
        else:
            expected = (before[2] + after[0]) / 2 - x0
            near = [g for g in gaps if abs((g[0] + g[1]) / 2 - expected) <= 2 * per_char]
        if near:
            g = max(near, key=lambda g: (g[1] - g[0], -abs((g[0] + g[1]) / 2 - expected)))
            cuts.append((g[0] + g[1]) / 2)
        else:
            cuts.append(expected)
        cuts[-1] = min(max(cuts[-1], cuts[-2]), width)
    cuts.append(width)
    spans_x: list[tuple[float, float]] = []
    own_rows: list[tuple[float, float]] = []
    for left, right in itertools.pairwise(cuts):
        cols = np.flatnonzero(inked[int(left) : max(int(right), int(left) + 1)])
        if not cols.size:
            spans_x.append((x0 + left, x0 + max(right, left + 1)))
            continue
        a, b = int(left) + int(cols[0]), int(left) + int(cols[-1]) + 1
        spans_x.append((float(x0 + a), float(x0 + b)))
        word_rows = np.flatnonzero(strip[:, a:b].any(axis=1))
        if word_rows.size:
            own_rows.append((y0 + float(word_rows[0]), y0 + float(word_rows[-1]) + 1))
    top, bottom = _type_rows(own_rows, (float(y0), float(y1)))
    boxes = [(a, top, b, bottom) for a, b in spans_x]
    return [(float(a), float(b), float(c), float(d)) for a, b, c, d in boxes]
