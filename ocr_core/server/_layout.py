"""Reading order and paragraphs from OCR line boxes: pure geometry, no engine, no I/O.

An OCR engine returns text boxes in detection order, which on a multi-column page
interleaves the columns line by line. A recursive XY-cut restores reading order:
a set of boxes is first split into columns at vertical gutters (x-ranges no box
covers); a set without a gutter is split into rows at horizontal gaps, and
consecutive rows that together still show a gutter (the body of a multi-column
section) are regrouped so their columns are read one after the other.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

# A gap between boxes this many line heights wide can be a column gutter. Word gaps are
# smaller; detectors split a line into boxes only at larger gaps. Tight LaTeX two-column
# gutters measure about half a line height between the boxes.
GUTTER_LINE_HEIGHTS = 0.4
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
# A vertical gap this many line heights beyond the page's usual line spacing starts a paragraph.
PARAGRAPH_GAP_LINE_HEIGHTS = 0.6
# A line ending this many line heights short of its block's right edge ends its paragraph.
SHORT_LINE_LINE_HEIGHTS = 4.0


@dataclass(frozen=True, slots=True)
class TextBox:
    """One recognised text fragment and its axis-aligned bounding box in pixels (y grows down)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @classmethod
    def from_quad(cls, points: Iterable[Sequence[float]], text: str) -> TextBox:
        """From the four corner points engines report for possibly skewed boxes."""
        xs, ys = zip(*((float(p[0]), float(p[1])) for p in points), strict=True)
        return cls(min(xs), min(ys), max(xs), max(ys), text)


@dataclass(frozen=True, slots=True)
class Line:
    """Boxes on one row of one column, left to right."""

    boxes: tuple[TextBox, ...]

    @property
    def x0(self) -> float:
        return min(b.x0 for b in self.boxes)

    @property
    def x1(self) -> float:
        return max(b.x1 for b in self.boxes)

    @property
    def y0(self) -> float:
        return min(b.y0 for b in self.boxes)

    @property
    def y1(self) -> float:
        return max(b.y1 for b in self.boxes)

    @property
    def text(self) -> str:
        return " ".join(b.text.strip() for b in self.boxes if b.text.strip())


def _gaps(intervals: Iterable[tuple[float, float]], min_width: float) -> list[tuple[float, float]]:
    """Uncovered stretches at least `min_width` wide between the covered ones."""
    ordered = sorted(intervals)
    gaps: list[tuple[float, float]] = []
    if not ordered:
        return gaps
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start - reach >= min_width:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def _split_at(boxes: list[TextBox], cuts: list[tuple[float, float]], vertical: bool) -> list:
    """Partition boxes by which side of each cut they lie on (cuts are uncovered, so exact)."""
    groups: list[list[TextBox]] = [[] for _ in range(len(cuts) + 1)]
    for box in boxes:
        start = box.x0 if vertical else box.y0
        index = sum(1 for _, cut_end in cuts if start >= cut_end)
        groups[index].append(box)
    return [g for g in groups if g]


class _Cutter:
    """Holds the page's typical line height, which scales every threshold."""

    def __init__(self, line_height: float) -> None:
        self.min_gutter = max(GUTTER_LINE_HEIGHTS * line_height, 1.0)

    def columns(self, boxes: list[TextBox]) -> list[list[TextBox]]:
        gutters = self.gutters(boxes)
        return _split_at(boxes, gutters, vertical=True) if gutters else [boxes]

    @staticmethod
    def rows(boxes: list[TextBox]) -> list[list[TextBox]]:
        """Rows top to bottom. Boxes of adjacent lines often overlap by a few pixels, so a box
        joins a row when its vertical centre falls inside the row's span, not when it touches."""
        rows: list[list[TextBox]] = []
        for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
            centre = (box.y0 + box.y1) / 2
            if rows:
                row = rows[-1]
                top = statistics.fmean(b.y0 for b in row)
                bottom = statistics.fmean(b.y1 for b in row)
                if top <= centre <= bottom and (top + bottom) / 2 >= box.y0:
                    row.append(box)
                    continue
            rows.append([box])
        return rows

    def sections(self, rows: list[list[TextBox]]) -> list[list[TextBox]]:
        """Regroup consecutive rows that share a gutter: one multi-column section each.

        A narrow single-column block (a centred date above the body) makes a gap with any
        two-column row; it joins only if it sits wholly on one side of that row's gutter.
        """
        sections: list[list[TextBox]] = []
        for row in rows:
            if sections and self._continues(sections[-1], row):
                sections[-1] = sections[-1] + row
            else:
                sections.append(list(row))
        return sections

    def _continues(self, section: list[TextBox], row: list[TextBox]) -> bool:
        if not self.gutters(section + row):
            return False
        row_gutters = self.gutters(row)
        if self.gutters(section) or not row_gutters:
            return True
        left, right = min(b.x0 for b in section), max(b.x1 for b in section)
        return all(right <= start or left >= end for start, end in row_gutters)

    def gutters(self, boxes: list[TextBox]) -> list[tuple[float, float]]:
        return _gaps(((b.x0, b.x1) for b in boxes), self.min_gutter)

    def order(self, boxes: list[TextBox]) -> list[Line]:
        rows = self.rows(boxes)
        if len(rows) == 1:  # one row: pieces of one line, or a table row, left to right
            return [Line(tuple(sorted(boxes, key=lambda b: b.x0)))]
        columns = self.columns(boxes)
        if len(columns) > 1:
            return [line for column in columns for line in self.order(column)]
        sections = self.sections(rows)
        if len(sections) == len(rows):
            return [Line(tuple(sorted(row, key=lambda b: b.x0))) for row in rows]
        return [line for section in sections for line in self.order(section)]


def reading_order(boxes: Sequence[TextBox]) -> list[Line]:
    """Lines in reading order: columns left to right, each top to bottom."""
    kept = [b for b in boxes if b.text.strip() and b.height > 0]
    if not kept:
        return []
    line_height = statistics.median(b.height for b in kept)
    return _Cutter(line_height).order(kept)


def paragraphs(lines: Sequence[Line]) -> list[list[Line]]:
    """Group consecutive lines into paragraphs.

    A paragraph ends where the next line jumps back up (a new column), sits further below
    than the page's usual line spacing, is indented, or where a line stops well short of
    its block's right edge (the last line of a paragraph).
    """
    if not lines:
        return []
    line_height = statistics.median(line.y1 - line.y0 for line in lines)
    spacings = [b.y0 - a.y1 for a, b in itertools.pairwise(lines) if b.y0 >= a.y1 - 1]
    usual_spacing = statistics.median(spacings) if spacings else 0.0
    big_gap = usual_spacing + PARAGRAPH_GAP_LINE_HEIGHTS * line_height
    groups: list[list[Line]] = [[lines[0]]]
    for previous, line in itertools.pairwise(lines):
        current = groups[-1]
        right_edge = max(line_.x1 for line_ in current)
        left_edge = min(line_.x0 for line_ in current)
        new_paragraph = (
            line.y0 < previous.y0  # back to the top: the next column
            or line.y0 - previous.y1 > big_gap
            or line.x1 < left_edge
            or line.x0 > right_edge  # no horizontal overlap
            or line.x0 - left_edge > 1.5 * line_height  # indented first line
            or right_edge - previous.x1 > SHORT_LINE_LINE_HEIGHTS * line_height
        )
        if new_paragraph:
            groups.append([line])
        else:
            current.append(line)
    return groups


def to_markdown(boxes: Sequence[TextBox]) -> str:
    """Paragraphs separated by a blank line, the lines of a paragraph by a newline."""
    return "\n\n".join(
        "\n".join(line.text for line in paragraph) for paragraph in paragraphs(reading_order(boxes))
    )


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
