"""Reading order and paragraphs from OCR line boxes: pure geometry, no engine, no I/O.

An OCR engine returns text boxes in detection order, which on a multi-column page
interleaves the columns line by line. A recursive XY-cut restores reading order:
a set of boxes is first split into columns at vertical gutters (x-ranges no box
covers); a set without a gutter is split into rows at horizontal gaps, and
consecutive rows that together still show a gutter (the body of a multi-column
section) are regrouped so their columns are read one after the other. A title in large
type ends such a section, a blank band across the page (above a page number) is cut before
the columns, and the lines of a column running beside a picture join the section below it.
A caption (or anything else read on a picture) set across the gutter between two columns
that run on above and below it floats: the columns are read without it, and it between them.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# A gap between boxes this many line heights wide can be a column gutter. Word gaps are
# smaller; detectors split a line into boxes only at larger gaps. Tight LaTeX two-column
# gutters measure about half a line height between the boxes.
GUTTER_LINE_HEIGHTS = 0.4
# A vertical gap this many line heights beyond the page's usual line spacing starts a paragraph.
PARAGRAPH_GAP_LINE_HEIGHTS = 0.6
# A line ending this many line heights short of its block's right edge ends its paragraph.
SHORT_LINE_LINE_HEIGHTS = 4.0
# Columns whose lines share rows are a table (a form, a table of contents) and are read row
# by row, unless one of them is running text: two columns of prose set on one baseline grid
# (LaTeX's two-column layout) share rows too. Running text is wide, and most of its lines
# reach the column's right edge.
TABLE_ALIGNED_SHARE = 0.7
PROSE_MIN_LINE_HEIGHTS = 10.0
PROSE_FILLED_SHARE = 0.5
PROSE_EDGE_LINE_HEIGHTS = 1.5
# A row whose every box is this many line heights tall is a heading (a title in large type).
# Beside a short running head it leaves a gap that looks like a gutter, and the columns
# under it would join that "section"; a heading only joins a section that already has
# columns of its own, and only within one of them (a subheading).
HEADING_LINE_HEIGHTS = 1.5
# A blank band this many line heights tall across the page is cut first: what is below it
# (a page number, a footer) is read after the columns above, whichever x it sits at.
BAND_LINE_HEIGHTS = 2.0
# A float (a picture's caption set across a gutter, the columns narrowing around it) is a
# few lines of normal or small type: at most this share of a set's boxes (and at least a
# few boxes may float in any set), standing this many line heights in from both outer edges.
FLOAT_MAX_SHARE = 0.15
FLOAT_MIN_BOXES = 4
FLOAT_INSET_LINE_HEIGHTS = 2.0


@dataclass(frozen=True, slots=True)
class TextBox:
    """One recognised text fragment and its axis-aligned bounding box in pixels (y grows down)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    # One log-probability per word of `text` (text.split() order), or () if unknown.
    word_logprobs: tuple[float, ...] = ()

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @classmethod
    def from_quad(
        cls, points: Iterable[Sequence[float]], text: str, word_logprobs: tuple[float, ...] = ()
    ) -> TextBox:
        """From the four corner points engines report for possibly skewed boxes."""
        xs, ys = zip(*((float(p[0]), float(p[1])) for p in points), strict=True)
        return cls(min(xs), min(ys), max(xs), max(ys), text, word_logprobs)

    def logprobs(self) -> list[float]:
        """One log-probability per word; 0.0 (certain) where the engine gave none."""
        count = len(self.text.split())
        if len(self.word_logprobs) == count:
            return list(self.word_logprobs)
        return [0.0] * count


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


def _split_at(
    boxes: list[TextBox], cuts: list[tuple[float, float]], vertical: bool
) -> list[list[TextBox]]:
    """Partition boxes by which side of each cut they lie on (cuts are uncovered, so exact)."""
    groups: list[list[TextBox]] = [[] for _ in range(len(cuts) + 1)]
    for box in boxes:
        start = box.x0 if vertical else box.y0
        index = sum(1 for _, cut_end in cuts if start >= cut_end)
        groups[index].append(box)
    return [g for g in groups if g]


class _Cutter:
    """Holds the page's typical line height, which scales every threshold."""

    def __init__(self, line_height: float, tables: bool = True) -> None:
        self.line_height = line_height
        self.tables = tables
        self.min_gutter = max(GUTTER_LINE_HEIGHTS * line_height, 1.0)

    def is_table(self, rows: list[list[TextBox]], columns: list[list[TextBox]]) -> bool:
        """True when most boxes share a row with a box of another column and no column is
        running text."""
        if any(self._is_prose(column) for column in columns):
            return False
        column_of = {id(box): i for i, column in enumerate(columns) for box in column}
        shared = sum(len(row) for row in rows if len({column_of[id(b)] for b in row}) > 1)
        return shared >= TABLE_ALIGNED_SHARE * sum(len(row) for row in rows)

    def _is_prose(self, column: list[TextBox]) -> bool:
        widths = [b.width for b in column]
        if statistics.median(widths) < PROSE_MIN_LINE_HEIGHTS * self.line_height:
            return False
        edge = max(b.x1 for b in column) - PROSE_EDGE_LINE_HEIGHTS * self.line_height
        return sum(b.x1 >= edge for b in column) >= PROSE_FILLED_SHARE * len(column)

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
        return self._beside_pictures(sections)

    def _beside_pictures(self, sections: list[list[TextBox]]) -> list[list[TextBox]]:
        """A picture at the top of a multi-column section leaves the columns it spans blank,
        and the lines of the column beside it come as one-column rows of their own: those
        that sit in one of the section's columns (they start at its left edge and cross no
        gutter) just above it join it, so they are read with their column, not before the
        other columns."""
        merged: list[list[TextBox]] = []
        for section in sections:
            gutters = self.gutters(section)
            while gutters and merged and self._in_a_column(merged[-1], section, gutters):
                section = merged.pop() + section
            merged.append(section)
        return merged

    def _in_a_column(
        self, above: list[TextBox], section: list[TextBox], gutters: list[tuple[float, float]]
    ) -> bool:
        heading = HEADING_LINE_HEIGHTS * self.line_height
        if self.gutters(above) or any(b.height >= heading for b in above):
            return False
        left, right = min(b.x0 for b in above), max(b.x1 for b in above)
        if not all(right <= start or left >= end for start, end in gutters):
            return False  # it crosses a gutter: it is above the columns, not in one
        columns = _split_at(section, gutters, vertical=True)
        return any(abs(left - min(b.x0 for b in c)) <= self.line_height for c in columns)

    def _continues(self, section: list[TextBox], row: list[TextBox]) -> bool:
        if not self.gutters(section + row):
            return False
        row_gutters = self.gutters(row)
        if self.gutters(section):
            return True
        if min(b.height for b in row) >= HEADING_LINE_HEIGHTS * self.line_height:
            return False
        if not row_gutters:
            return True
        left, right = min(b.x0 for b in section), max(b.x1 for b in section)
        return all(right <= start or left >= end for start, end in row_gutters)

    def floating(
        self, boxes: list[TextBox]
    ) -> tuple[list[TextBox], list[TextBox], tuple[float, float]] | None:
        """(floats, the rest, the gutter they cross) when a few boxes are all that close a
        gutter between two columns that run on both above and below them: a picture's
        caption set between the columns, which narrow around it. A title, byline or date
        over the columns has no column above it; a line that runs the width of the set
        reaches its outer edges; neither floats. The fewest such boxes win."""
        limit = max(FLOAT_MIN_BOXES, int(FLOAT_MAX_SHARE * len(boxes)))
        left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
        inset = FLOAT_INSET_LINE_HEIGHTS * self.line_height
        heading = HEADING_LINE_HEIGHTS * self.line_height
        edges = sorted({e for b in boxes for e in (b.x0, b.x1)})
        tried: set[frozenset[int]] = set()
        best: tuple[list[TextBox], list[TextBox], tuple[float, float]] | None = None
        for a, b in itertools.pairwise(edges):
            middle = (a + b) / 2
            floats = [box for box in boxes if box.x0 < middle < box.x1]
            key = frozenset(id(box) for box in floats)
            if not floats or len(floats) > limit or key in tried:
                continue
            tried.add(key)
            if best is not None and len(floats) >= len(best[0]):
                continue
            if any(
                f.height >= heading or f.x0 < left + inset or f.x1 > right - inset for f in floats
            ):
                continue
            rest = [box for box in boxes if id(box) not in key]
            gutter = next((g for g in self.gutters(rest) if g[0] <= middle <= g[1]), None)
            if gutter is not None and self._runs_past(rest, floats, gutter):
                best = floats, rest, gutter
        return best

    @staticmethod
    def _runs_past(rest: list[TextBox], floats: list[TextBox], gutter: tuple[float, float]) -> bool:
        """Both sides of the gutter hold lines above the floats and lines below them."""
        top, bottom = min(f.y0 for f in floats), max(f.y1 for f in floats)
        for side in (
            [b for b in rest if b.x1 <= gutter[0]],
            [b for b in rest if b.x0 >= gutter[1]],
        ):
            if not any(b.y1 <= top for b in side) or not any(b.y0 >= bottom for b in side):
                return False
        return True

    def gutters(self, boxes: list[TextBox]) -> list[tuple[float, float]]:
        return _gaps(((b.x0, b.x1) for b in boxes), self.min_gutter)

    def order(self, boxes: list[TextBox]) -> list[Line]:
        bands = _gaps(((b.y0, b.y1) for b in boxes), BAND_LINE_HEIGHTS * self.line_height)
        if bands:  # blank across the whole set: what is below is read after all of it
            parts = _split_at(boxes, bands, vertical=False)
            return [line for part in parts for line in self.order(part)]
        rows = self.rows(boxes)
        if len(rows) == 1:  # one row: pieces of one line, or a table row, left to right
            return [Line(tuple(sorted(boxes, key=lambda b: b.x0)))]
        columns = self.columns(boxes)
        if len(columns) > 1 and self.tables and self.is_table(rows, columns):
            return [Line(tuple(sorted(row, key=lambda b: b.x0))) for row in rows]
        if len(columns) > 1:
            return [line for column in columns for line in self.order(column)]
        floating = self.floating(boxes)
        if floating is not None:
            floats, rest, gutter = floating
            lines: list[Line] = []
            for column in self.columns(rest):
                if min(b.x0 for b in column) >= gutter[1] and floats:
                    lines += self.order(floats)  # between the columns it sits between
                    floats = []
                lines += self.order(column)
            return lines
        sections = self.sections(rows)
        if len(sections) == len(rows):
            return [Line(tuple(sorted(row, key=lambda b: b.x0))) for row in rows]
        return [line for section in sections for line in self.order(section)]


def reading_order(boxes: Sequence[TextBox], tables: bool = True) -> list[Line]:
    """Lines in reading order: columns left to right, each top to bottom; with `tables`,
    columns that share rows and hold no prose are read row by row."""
    kept = [b for b in boxes if b.text.strip() and b.height > 0]
    if not kept:
        return []
    line_height = statistics.median(b.height for b in kept)
    return _Cutter(line_height, tables).order(kept)


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


def render(boxes: Sequence[TextBox], tables: bool = True) -> tuple[str, list[float]]:
    """Markdown text (paragraphs separated by a blank line, lines by a newline) and one
    log-probability per word of it, in the order of `text.split()`."""
    grouped = paragraphs(reading_order(boxes, tables))
    text = "\n\n".join("\n".join(line.text for line in paragraph) for paragraph in grouped)
    logprobs = [
        value
        for paragraph in grouped
        for line in paragraph
        for box in line.boxes
        for value in box.logprobs()
    ]
    return text, logprobs


def to_markdown(boxes: Sequence[TextBox]) -> str:
    """The text of `render`, without the log-probabilities."""
    return render(boxes)[0]
