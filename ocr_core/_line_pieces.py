"""A page's detected lines as pieces with their words' ink: the lines detected where the
page has ink, a line cut at a gutter the detector bridged, its type's band of rows and its
words' column spans, and which piece comes before which on the page.

Runs in the locating sandbox worker (numpy is the local extra's).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._word_boxes import Box, blank_runs, own_band
from ._word_widths import MIN_ALONE_WORDS, Span

if TYPE_CHECKING:
    from .server._engine import RapidOcrEngine
    from .server._gutters import Gutter

# A blank run at least this share of the line's type height is a word break (a word space
# is about 0.25-0.33 em, the gaps inside a word under 0.1 em).
WORD_GAP_SHARE = 0.2
# A blank run this many times the line's type height is a gutter the detector bridged.
GUTTER_SHARE = 0.8
# A short mark at least this share of the line's type height wide is a dash.
DASH_WIDTH_SHARE = 0.4
# A span whose ink is shorter than this share of the line's type is a mark (".", ",", "-").
MARK_HEIGHT_SHARE = 0.4
# Blank page kept around the ink when only the part of the page with ink is detected (px).
INK_MARGIN_PX = 32


def detect_on_ink(
    engine: RapidOcrEngine, bgr: Any, dark: Any, scale: float
) -> tuple[list[Any], list[Any]]:
    """The engine's lines (corners in page pixels, and their crops) detected on the part of
    the page that has ink, at the page's detection `scale`: a digital page's white margins
    are a third of its pixels, and detection costs by the pixel. The part is never narrower
    than the detector's least side (it would enlarge it, and find other boxes)."""
    import numpy as np

    rows, columns = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    side = _least_side(engine)
    if not len(rows) or side is None:
        quads, crops, _ = engine._detect(bgr, scale, classify=False)
        return list(quads), list(crops)
    least = math.ceil(side / scale)
    y0, y1 = _around(int(rows[0]), int(rows[-1]) + 1, dark.shape[0], least)
    x0, x1 = _around(int(columns[0]), int(columns[-1]) + 1, dark.shape[1], least)
    part = np.ascontiguousarray(bgr[y0:y1, x0:x1])
    quads, crops, _ = engine._detect(part, scale, classify=False)
    shift = np.array([x0, y0], dtype=np.float32)
    return [np.asarray(quad, dtype=np.float32) + shift for quad in quads], list(crops)


def _least_side(engine: RapidOcrEngine) -> int | None:
    """The side rapidocr's detector enlarges a smaller image to (its `limit_side_len`: on
    the detector since 1.4, on its preprocessing before); None if neither says."""
    detector = engine._ocr.text_det
    for holder in (detector, getattr(detector, "preprocess_op", None)):
        side = getattr(holder, "limit_side_len", None)
        if isinstance(side, int | float) and side > 0:
            return int(side)
    return None


def _around(first: int, end: int, size: int, least: int) -> tuple[int, int]:
    """Rows (or columns) first..end with INK_MARGIN_PX either side, widened to `least`
    where the page allows, within 0..size."""
    low, high = max(first - INK_MARGIN_PX, 0), min(end + INK_MARGIN_PX, size)
    if high - low < least:
        low = max(min(low - (least - (high - low)) // 2, size - least), 0)
        high = min(low + least, size)
    return low, high


def word_spans(dark: Any, box: Box) -> tuple[int, int, list[tuple[int, int]]]:
    """The line's own band of rows (y0, y1) and its words' column spans (page x), cut at
    blank runs of at least WORD_GAP_SHARE of the band's height."""
    import numpy as np

    x0, y0, x1, y1 = (max(round(v), 0) for v in box)
    strip: Any = np.asarray(dark[y0:y1, x0:x1])
    if strip.size == 0:
        return y0, y1, []
    band0, band1 = own_band(strip.any(axis=1).tolist(), strip.sum(axis=1).tolist())
    inked: list[bool] = strip[band0:band1].any(axis=0).tolist()
    if not any(inked):
        return y0 + band0, y0 + band1, []
    first = inked.index(True)
    last = len(inked) - inked[::-1].index(True)
    wide = max(2.0, WORD_GAP_SHARE * (band1 - band0))
    spans, start = [], first
    for a, b in blank_runs(inked[first:last]):
        if b - a >= wide:
            spans.append((x0 + start, x0 + first + a))
            start = first + b
    spans.append((x0 + start, x0 + last))
    return y0 + band0, y0 + band1, _marks_joined(strip[band0:band1], x0, spans)


def _marks_joined(band: Any, x0: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans whose ink is short (a full stop, comma, hyphen or quote set off by a gap)
    joined to the word before them (the first one to the word after); but a dash, short
    and wide, stays a word."""
    tall = MARK_HEIGHT_SHARE * band.shape[0]
    joined: list[tuple[int, int]] = []
    pending: int | None = None  # a mark before the first word: joined to it
    for a, b in spans:
        rows = band[:, a - x0 : b - x0].any(axis=1).nonzero()[0]
        is_mark = rows.size == 0 or rows[-1] - rows[0] + 1 < tall
        if is_mark and rows.size and b - a >= DASH_WIDTH_SHARE * band.shape[0]:
            is_mark = False  # a dash set off by spaces ("Kjift – not") is a word of the text
        if is_mark and joined:
            joined[-1] = (joined[-1][0], b)
        elif is_mark and len(spans) > 1:
            pending = a if pending is None else pending
        else:
            joined.append((a if pending is None else pending, b))
            pending = None
    return joined or spans


@dataclass(frozen=True, slots=True)
class Piece:
    """A detected line, or the part of one on one side of a gutter the detector bridged."""

    line: int  # the detected line's index
    whole: bool  # the piece is the whole detected line
    box: Box
    top: int
    bottom: int
    spans: list[tuple[int, int]]


def pieces_of(
    line: int, box: Box, top: int, bottom: int, spans: list[tuple[int, int]]
) -> list[Piece]:
    """The line cut at blank runs wider than GUTTER_SHARE of its type's height."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[0] - groups[-1][-1][1] < GUTTER_SHARE * (bottom - top):
            groups[-1].append(span)
        else:
            groups.append([span])
    if len(groups) == 1:
        return [Piece(line, True, box, top, bottom, groups[0])]
    return [
        Piece(line, False, (float(g[0][0]), box[1], float(g[-1][1]), box[3]), top, bottom, g)
        for g in groups
    ]


def quad(box: Box) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def line_crop(bgr: Any, piece: Piece, crops: Sequence[Any]) -> Any:
    """The recogniser's crop of a whole line (turned upright), or a piece's as it sits."""
    import numpy as np

    if piece.whole:
        return crops[piece.line]
    x0, y0, x1, y1 = (round(v) for v in piece.box)
    return np.ascontiguousarray(bgr[max(y0, 0) : y1, max(x0, 0) : x1])


def box_of(box: Any) -> Box:
    return (float(box.x0), float(box.y0), float(box.x1), float(box.y1))


def _same_row(a: Piece, b: Piece) -> bool:
    return min(a.bottom, b.bottom) - max(a.top, b.top) >= 0.5 * min(
        a.bottom - a.top, b.bottom - b.top
    )


def _across(a: Piece, b: Piece) -> float:
    """How much of the narrower piece's width the two share."""
    shared = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    return shared / max(min(a.box[2] - a.box[0], b.box[2] - b.box[0]), 1.0)


def _gutter_between(gutters: Sequence[Gutter], left: Piece, right: Piece) -> bool:
    """Whether a column gutter of the page's ink (`server/_gutters`) lies between two
    pieces on a row: the gap where the detector cut one line in two has none, and a title
    or date set across the gutter does not hide one."""
    middle = (right.top + right.bottom) / 2
    slack = right.bottom - right.top  # a detected box reaches a little into the gutter
    return any(
        g.y0 <= middle < g.y1 and g.x0 >= left.box[2] - slack and g.x1 <= right.box[0] + slack
        for g in gutters
    )


def lines_before(
    pieces: Sequence[Piece], gutters: Callable[[], Sequence[Gutter]]
) -> list[int | None]:
    """For each piece (in reading order), the piece whose text its own follows on from
    when that is not the one before it in reading order: the last piece of the nearest
    row above it in its column. The text reads a column down; the layout's order may
    go back and forth between columns (a page of two columns whose rows line up), and a
    piece's words then follow on from the piece above it, not the one before it. None
    where the piece before it in reading order is on its row to its left (the same line
    cut in two), or no piece above shares its column. `gutters()` gives the page's column
    gutters, asked for only when two pieces share a row."""
    before: list[int | None] = []
    for at, piece in enumerate(pieces):
        previous = pieces[at - 1] if at else None
        if (
            previous is not None
            and _same_row(previous, piece)
            and previous.box[0] < piece.box[0]
            and not _gutter_between(gutters(), previous, piece)
        ):
            before.append(None)
            continue
        above = [
            k
            for k in range(at)
            if pieces[k].bottom <= piece.top + 0.5 * (piece.bottom - piece.top)
            and _across(pieces[k], piece) > 0.2
        ]
        if not above:
            before.append(None)
            continue
        nearest = max(above, key=lambda k: pieces[k].top)
        row = [k for k in above if _same_row(pieces[k], pieces[nearest])]
        last = max(row, key=lambda k: pieces[k].box[2])
        # The row may go on to the right of the piece's own width, in pieces the detector cut
        # it into (a justified line's wide spaces): its text ends at the last before a gutter.
        further = sorted(
            (
                k
                for k in range(at)
                if _same_row(pieces[k], pieces[last]) and pieces[k].box[0] >= pieces[last].box[2]
            ),
            key=lambda k: pieces[k].box[0],
        )
        for k in further:
            if _gutter_between(gutters(), pieces[last], pieces[k]):
                break
            last = k
        before.append(last)
    return before


def follows(at: int, before: Sequence[int | None]) -> int:
    """The piece whose text piece `at`'s goes on from."""
    found = before[at]
    return at - 1 if found is None else found


def chain_of(pieces: Sequence[Piece], after: dict[int, int], at: int) -> list[list[Span]]:
    """The spans of piece `at` and of the pieces its text goes on into, MIN_ALONE_WORDS words
    of them or as many as there are."""
    chain = [list(pieces[at].spans)]
    while at in after and sum(map(len, chain)) < MIN_ALONE_WORDS:
        at = after[at]
        chain.append(list(pieces[at].spans))
    return chain


def next_pieces(count: int, before: Sequence[int | None]) -> dict[int, int]:
    """Each piece's next in the text: the first piece that goes on from it."""
    after: dict[int, int] = {}
    for at in range(1, count):
        after.setdefault(follows(at, before), at)
    return after
