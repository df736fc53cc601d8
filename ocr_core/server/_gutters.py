"""Column gutters in a page's pixels, for boxes the detector merged across them.

A detector working on a downscaled page often merges the lines of two columns across a
narrow gutter into one box; the pixels still show the gutter. The engine cuts such boxes
at the gutters found here and reads each piece again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ._layout import TextBox

# In page pixels, a gutter is a strip at least this wide and this tall with no ink,
# with text on both sides: taller than any river of word spaces.
PIXEL_GUTTER_MIN_WIDTH = 0.5
PIXEL_GUTTER_MIN_HEIGHT = 4.0
PIXEL_GUTTER_MAX_WIDTH = 8.0
POOLED_LINE_HEIGHT = 10
# Lines of text a gutter must have beside it on each side: rivers of word spaces run
# through three or four lines of large type, real columns through many more.
PIXEL_GUTTER_MIN_LINES = 6
# Share of inked rows right of the gutter whose first ink lies within this many line
# heights of the gutter's edge: the aligned left edge of a column.
PIXEL_GUTTER_ALIGNED = 0.6
GUTTER_EDGE_TOLERANCE = 0.25


@dataclass(frozen=True, slots=True)
class Gutter:
    """A blank vertical strip between two columns of text, in page pixels (end-exclusive)."""

    x0: int
    x1: int
    y0: int
    y1: int

    @property
    def middle(self) -> int:
        return (self.x0 + self.x1) // 2

    def crossed_by(self, box: TextBox) -> bool:
        """True when the box spans the strip: a detector merged lines of both columns."""
        centre = (box.y0 + box.y1) / 2
        return self.y0 <= centre < self.y1 and box.x0 < self.x0 and box.x1 > self.x1


def _tall_blank_runs(blank: np.ndarray, min_height: int) -> list[list[tuple[int, int]]]:
    """Per pixel column, the vertical runs of blank pixels at least min_height tall."""
    padded = np.zeros((blank.shape[0] + 2, blank.shape[1]), dtype=np.int8)
    padded[1:-1] = blank
    edges = np.diff(padded, axis=0)
    runs: list[list[tuple[int, int]]] = [[] for _ in range(blank.shape[1])]
    starts_y, starts_x = np.nonzero(edges == 1)
    ends_y, ends_x = np.nonzero(edges == -1)
    # np.nonzero walks row-major, so order both by column, then by row, to pair them up.
    start_order = np.lexsort((starts_y, starts_x))
    end_order = np.lexsort((ends_y, ends_x))
    for x, y0, y1 in zip(
        starts_x[start_order], starts_y[start_order], ends_y[end_order], strict=True
    ):
        if y1 - y0 >= min_height:
            runs[int(x)].append((int(y0), int(y1)))
    return runs


def _strips(
    runs: list[list[tuple[int, int]]],
    x: int,
    run: tuple[int, int],
    min_height: int,
    max_width: int,
) -> Iterator[tuple[int, int, int, int]]:
    """Blank rectangles (x0, x1, y0, y1) that start at column x with `run`.

    The strip widens rightwards while some run of the next column keeps at least min_height
    of it blank; each time that trims its height, the strip so far is one candidate, so a
    tall narrow strip and a wider shorter one are both offered. A strip wider than
    max_width is open page (a margin, space below the text), not a gutter: none is offered.
    """
    y0, y1 = run
    end = x + 1
    candidates: list[tuple[int, int, int, int]] = []
    while end < len(runs):
        if end - x > max_width:
            yield from candidates
            return
        overlaps = [(max(y0, a), min(y1, b)) for a, b in runs[end]]
        a, b = max(overlaps, key=lambda r: r[1] - r[0], default=(0, 0))
        if b - a < min_height:
            break
        if b - a < y1 - y0:
            candidates.append((x, end, y0, y1))
        y0, y1 = a, b
        end += 1
    yield from candidates
    yield x, end, y0, y1


def find_gutters(ink: np.ndarray, line_height: float) -> list[Gutter]:
    """Blank strips between columns of text in a page's ink mask (True = dark pixel).

    A detector working on a downscaled page often merges the lines of two columns across a
    narrow gutter into one box; the pixels still show the gutter. A strip counts when it is
    wide and tall enough for no river of word spaces to pass for one, has text on both
    sides (which rules out the page margins), and the text on its right starts at one
    aligned edge, as a column's lines do and the words after a river do not.
    """
    if ink.ndim != 2 or line_height <= 0:
        return []
    # The search walks pixel columns in Python: pool the mask so a line is ~10 px tall.
    # A pooled cell is blank only if all its pixels are, so pooled gutters are truly blank.
    factor = max(1, int(line_height // POOLED_LINE_HEIGHT))
    if factor > 1:
        height, width = (ink.shape[0] // factor) * factor, (ink.shape[1] // factor) * factor
        pooled = ink[:height, :width].reshape(height // factor, factor, width // factor, factor)
        return [
            Gutter(g.x0 * factor, g.x1 * factor, g.y0 * factor, g.y1 * factor)
            for g in _find_gutters(np.any(pooled, axis=(1, 3)), line_height / factor)
        ]
    return _find_gutters(ink, line_height)


def _find_gutters(ink: np.ndarray, line_height: float) -> list[Gutter]:
    min_width = max(2, round(PIXEL_GUTTER_MIN_WIDTH * line_height))
    min_height = max(4, round(PIXEL_GUTTER_MIN_HEIGHT * line_height))
    max_width = max(min_width + 1, round(PIXEL_GUTTER_MAX_WIDTH * line_height))
    side = max(2, round(line_height))
    runs = _tall_blank_runs(~ink, min_height)
    found: list[Gutter] = []
    for x, column in enumerate(runs):
        for run in column:
            if x and any(a <= run[0] and run[1] <= b for a, b in runs[x - 1]):
                continue  # a strip from the column before already runs through here
            found.extend(
                Gutter(x0, x1, y0, y1)
                for x0, x1, y0, y1 in _strips(runs, x, run, min_height, max_width)
                if x1 - x0 >= min_width
            )
    kept = [g for g in found if _between_columns(ink, g, side)]
    kept.sort(key=lambda g: (g.x1 - g.x0) * (g.y1 - g.y0), reverse=True)
    distinct: list[Gutter] = []
    for gutter in kept:
        if not any(_overlap(gutter, other) for other in distinct):
            distinct.append(gutter)
    return sorted(distinct, key=lambda g: (g.x0, g.y0))


def _text_lines(region: np.ndarray) -> int:
    """How many separate bands of inked rows (lines of text) a region holds."""
    inked = region.any(axis=1).astype(np.int8)
    return int((np.diff(inked, prepend=0) == 1).sum())


def _overlap(a: Gutter, b: Gutter) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _between_columns(ink: np.ndarray, gutter: Gutter, side: int) -> bool:
    if gutter.x0 < side or gutter.x1 + side > ink.shape[1]:
        return False
    left = ink[gutter.y0 : gutter.y1, gutter.x0 - side : gutter.x0]
    right = ink[gutter.y0 : gutter.y1, gutter.x1 : gutter.x1 + side]
    if min(_text_lines(left), _text_lines(right)) < PIXEL_GUTTER_MIN_LINES:
        return False
    inked = right[right.any(axis=1)]
    first_ink = inked.argmax(axis=1)
    tolerance = max(2, round(GUTTER_EDGE_TOLERANCE * side))
    return float((first_ink <= tolerance).mean()) >= PIXEL_GUTTER_ALIGNED


def trim_to_gutters(box: TextBox, gutters: Sequence[Gutter]) -> TextBox:
    """Pull a box's edge back out of a gutter it only reaches into (detector padding)."""
    x0, x1 = box.x0, box.x1
    centre_y = (box.y0 + box.y1) / 2
    for g in gutters:
        if not g.y0 <= centre_y < g.y1 or x1 <= g.x0 or x0 >= g.x1:
            continue
        if (x0 + x1) / 2 < g.middle:
            x1 = min(x1, g.x0)
        else:
            x0 = max(x0, g.x1)
    if (x0, x1) == (box.x0, box.x1) or x1 <= x0:
        return box
    return TextBox(x0, box.y0, x1, box.y1, box.text)
