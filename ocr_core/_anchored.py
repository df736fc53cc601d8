"""Word boxes without reading whole lines: the service's words anchored on the ink.

Reading every detected line with the recogniser was ~80 % of locating a page's words (the
profile in `python -m ocr_core.bench.locate --profile`). The service has read the page
already, so most lines need only be found in its text: a line is cut into words at the
wide blank column runs of its ink, only its first and last word are read (two short crops
instead of the whole line), and the line is the run of the service's words of the same
count whose first and last words are those two, the run nearest where the previous line
ended. A line whose first or last word cannot be found so (a gap taken for a word break, a
word broken by a hyphen, ink the service did not read) is read whole as before
(`cut_at_ink` with the recogniser's spans), so the alignment in `_locate` sees the same
lines either way.

Runs in the locating sandbox worker (it imports the engine and cv2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from ._locate import normalise
from ._word_boxes import Box, blank_runs, cut_at_ink, own_band
from ._word_widths import WIDTH_FACTOR, Span, WordWidths, misfit

if TYPE_CHECKING:
    from .server._engine import RapidOcrEngine

# A blank run at least this share of the line's type height is a word break (a word space
# is about 0.25-0.33 em, the gaps inside a word under 0.1 em).
WORD_GAP_SHARE = 0.2
# Blank columns left beside a word crop, as a share of the line's type height.
CROP_PAD_SHARE = 0.15
# Word crops are read side by side in strips about this wide (px at the recogniser's height).
STRIP_WIDTH = 1600
# A blank run this many times the line's type height is a gutter the detector bridged.
GUTTER_SHARE = 0.8
# A span whose ink is shorter than this share of the line's type is a mark (".", ",", "-").
MARK_HEIGHT_SHARE = 0.4
# How alike a word read from its crop and the service's word must be (rapidfuzz ratio) when
# both have three characters or more; shorter words must be equal.
MIN_ANCHOR_SIMILARITY = 70.0
# Rounds of reading the ends of the lines that do not fit where they stand; what is left
# after them is read whole.
READ_ROUNDS = 4

Line = tuple[Box, str, list[Box]]


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
    joined to the word before them (the first one to the word after)."""
    tall = MARK_HEIGHT_SHARE * band.shape[0]
    joined: list[tuple[int, int]] = []
    pending: int | None = None  # a mark before the first word: joined to it
    for a, b in spans:
        rows = band[:, a - x0 : b - x0].any(axis=1).nonzero()[0]
        is_mark = rows.size == 0 or rows[-1] - rows[0] + 1 < tall
        if is_mark and joined:
            joined[-1] = (joined[-1][0], b)
        elif is_mark and len(spans) > 1:
            pending = a if pending is None else pending
        else:
            joined.append((a if pending is None else pending, b))
            pending = None
    return joined or spans


def _alike(read: str, word: str) -> bool:
    if len(read) < 3 or len(word) < 3:
        return read == word
    return read == word or fuzz.ratio(read, word) >= MIN_ANCHOR_SIMILARITY


@dataclass(frozen=True, slots=True)
class Run:
    """Where a line's words start among the service's, and whether its first (last) word
    on the page is only the end (start) of the service's word, hyphenated across lines."""

    start: int
    first_cut: bool
    last_cut: bool


def find_runs(words: Sequence[str], first: str, last: str, count: int) -> list[Run]:
    """The runs of `count` service words (normalised) whose first and last are `first` and
    `last` (or their end and start, across a hyphen)."""
    found = []
    for start in range(len(words) - count + 1):
        head, tail = words[start], words[start + count - 1]
        first_cut = first != head and len(first) >= 2 and head.endswith(first)
        last_cut = last != tail and len(last) >= 2 and tail.startswith(last)
        if (first_cut or _alike(first, head)) and (last_cut or _alike(last, tail)):
            found.append(Run(start, first_cut, last_cut))
    return found


def read_words(engine: RapidOcrEngine, crops: Sequence[Any]) -> list[str]:
    """Each word crop's text. The recogniser pads every input to at least 320 x 48 px (a
    line's shape), so a word read alone costs as much as a line of 320 px: the crops are set
    side by side in strips of about STRIP_WIDTH (scaled to the recogniser's height, a blank
    between them) and each word read is given to the crop its centre falls in."""
    import bisect

    import cv2
    import numpy as np

    height = int(engine._recognize._rec.rec_image_shape[1])
    gap = np.full((height, height // 2, 3), 255, dtype=np.uint8)
    strips: list[tuple[Any, list[float]]] = []  # strip, each crop's right edge in it
    parts: list[Any] = []
    edges: list[float] = []
    width = 0
    for crop in crops:
        scaled = cv2.resize(
            crop, (max(1, round(crop.shape[1] * height / max(crop.shape[0], 1))), height)
        )
        if parts and width + scaled.shape[1] > STRIP_WIDTH:
            strips.append((np.hstack(parts), edges))
            parts, edges, width = [], [], 0
        parts += [gap, scaled]
        width += gap.shape[1] + scaled.shape[1]
        edges.append(width + gap.shape[1] / 2)
    if parts:
        strips.append((np.hstack([*parts, gap]), edges))
    texts: list[list[str]] = [[] for _ in crops]
    first = 0
    for (strip, ends), line in zip(strips, engine._recognize([s for s, _ in strips]), strict=True):
        spans = line.word_spans if len(line.word_spans) == len(line.text.split()) else ()
        for word, (a, b) in zip(line.text.split(), spans, strict=True):
            at = bisect.bisect_left(ends, (a + b) / 2 * strip.shape[1])
            texts[first + min(at, len(ends) - 1)].append(word)
        first += len(ends)
    return [" ".join(words) for words in texts]


@dataclass(frozen=True, slots=True)
class Anchored:
    """A page's lines with their word boxes, in reading order, and how much was read to
    place them: pieces of lines in all, those whose ends were read, those read whole."""

    lines: list[Line]
    pieces: int
    ends_read: int
    read_whole: int


def anchored_lines(
    engine: RapidOcrEngine, bgr: Any, dark: Any, words: Sequence[str], *, unread: bool = True
) -> Anchored:
    """The page's lines with their word boxes. `words` are the service's words in its
    order (as written).

    Nothing is read at first: a line that follows on from the one before it with words as
    wide as their ink takes them (`WordWidths`). The ends of the lines that do not are read
    and every line is placed again from the start, up to READ_ROUNDS times (a line read puts
    the lines after it back where they are; one placed on a guess may then need reading)."""
    from .server._layout import TextBox, reading_order
    from .server._page_geometry import detection_scale

    quads, crops, _ = engine._detect(bgr, detection_scale(dark), classify=False)
    boxes = [TextBox.from_quad(quad, "?") for quad in quads]
    index = {id(box): n for n, box in enumerate(boxes)}
    pieces = [
        piece
        for line in reading_order(boxes)
        for box in line.boxes
        for piece in _pieces(index[id(box)], _box(box), *word_spans(dark, _box(box)))
    ]
    said = [normalise(w) for w in words]
    # Piece -> its first and last word as read; without `unread`, every piece's are read.
    ends = {} if unread else _read_ends(engine, bgr, pieces, range(len(pieces)))
    widths = WordWidths(words)
    anchored, whole, late = _settle(words, said, widths, pieces, ends)
    for _ in range(READ_ROUNDS):
        if not late:
            break
        ends |= _read_ends(engine, bgr, pieces, late)
        anchored, whole, late = _settle(words, said, widths, pieces, ends)
    whole = sorted({*whole, *late})
    lines = _lines_of(engine, bgr, dark, boxes, crops, pieces, anchored, whole)
    return Anchored(lines, len(pieces), len(ends), len(whole))


def _read_ends(
    engine: RapidOcrEngine, bgr: Any, pieces: Sequence[_Piece], chosen: Sequence[int]
) -> dict[int, tuple[str, str]]:
    """The first and last word of each chosen piece, read from their crops (side by side)."""
    import numpy as np

    crops: list[Any] = []
    for at in chosen:  # each piece's first word, and its last when it has more than one
        piece = pieces[at]
        pad = round(CROP_PAD_SHARE * (piece.bottom - piece.top))
        for x0, x1 in piece.spans[:1] + piece.spans[1:][-1:]:
            crop = bgr[piece.top : piece.bottom, max(x0 - pad, 0) : x1 + pad]
            crops.append(np.ascontiguousarray(crop))
    read = iter(read_words(engine, crops) if crops else [])
    ends = {}
    for at in chosen:
        first = next(read)
        ends[at] = (first, next(read) if len(pieces[at].spans) > 1 else first)
    return ends


def _settle(
    words: Sequence[str],
    said: Sequence[str],
    widths: WordWidths,
    pieces: Sequence[_Piece],
    ends: dict[int, tuple[str, str]],
) -> tuple[dict[int, list[str]], list[int], list[int]]:
    """Each piece's words as the page shows them, in reading order: an unread piece takes
    the words from where the piece before it ended when their widths fit its ink
    (`WordWidths.unread_start`), a read one the run its ends find (`find_runs`) whose
    widths fit best, nearest where the piece before it ended, and a piece neither places
    the words between the pieces placed on either side of it (`_between`). Returns the
    pieces placed, those to read whole, and the unread pieces that do not fit where they
    stand (their ends are to be read)."""
    anchored: dict[int, list[str]] = {}
    placed: dict[int, tuple[int, int]] = {}  # piece -> its first word and the one after it
    whole: list[int] = []
    late: list[int] = []
    expected = 0
    for at, piece in enumerate(pieces):
        spans = piece.spans
        if at not in ends:
            start = widths.unread_start([p.spans for p in pieces[at : at + 2]], expected)
            if start is None:
                late.append(at)
                # A piece to read moves the guess on by its count: the pieces after it are
                # placed on the guess, and placed again once its ends are read.
                expected += len(spans)
            else:
                anchored[at] = list(words[start : start + len(spans)])
                expected = start + len(spans)
                placed[at] = (start, expected)
            continue
        first, last = ends[at]
        runs = []
        if normalise(first) and normalise(last):
            runs = find_runs(said, normalise(first), normalise(last), len(spans))
        # The run whose words' widths fit the ink best, then the nearest where the last ended.
        fits = [(misfit(words[r.start : r.start + len(spans)], spans), r) for r in runs]
        fits = [(score, r) for score, r in fits if score <= math.log(WIDTH_FACTOR)]
        if not fits:
            whole.append(at)
            expected += len(spans)  # a guess again, which the next piece's fit checks
            continue
        run = min(fits, key=lambda fit: (round(fit[0], 1), abs(fit[1].start - expected)))[1]
        on_line = list(words[run.start : run.start + len(spans)])
        if run.first_cut:  # the page's piece of the word, as the whole line would read it
            on_line[0] = first
        if run.last_cut:
            on_line[-1] = last
        expected = run.start + len(spans) - run.last_cut
        anchored[at] = on_line
        placed[at] = (run.start + run.first_cut, expected)
    for at in [*whole]:
        between = _between(widths, placed, at, pieces[at].spans)
        if between is not None:
            anchored[at] = list(words[between[0] : between[1]])
            whole.remove(at)
    return anchored, whole, late


def _between(
    widths: WordWidths, placed: dict[int, tuple[int, int]], at: int, spans: Sequence[Span]
) -> tuple[int, int] | None:
    """The words between the pieces placed just before and after piece `at`, when they are
    as many as its ink shows and as wide (a gap inside a word taken for a break, "K jift",
    keeps the count but not the widths: such a line is read whole)."""
    if at - 1 not in placed or at + 1 not in placed:
        return None
    start, end = placed[at - 1][1], placed[at + 1][0]
    return (start, end) if end - start == len(spans) and widths.fits(start, spans) else None


def _lines_of(
    engine: RapidOcrEngine,
    bgr: Any,
    dark: Any,
    boxes: Sequence[Any],
    crops: Sequence[Any],
    pieces: Sequence[_Piece],
    anchored: dict[int, list[str]],
    whole: Sequence[int],
) -> list[Line]:
    """The lines with their word boxes: the placed pieces cut at their ink, the others read
    whole; a detected line all of whose pieces were placed is one line again."""
    from .server._lines import read_lines_of

    lines: dict[int, Line] = {}
    read_whole = read_lines_of(
        engine,
        [_quad(pieces[at].box) for at in whole],
        [_crop(bgr, pieces[at], crops) for at in whole],
    )
    for at, read_line in zip(whole, read_whole, strict=True):
        if read_line is not None:
            found, line_spans = read_line
            box = _box(found)
            lines[at] = (box, found.text, cut_at_ink(dark, box, found.text, line_spans))
    for at, piece in enumerate(pieces):
        of_line = [k for k, other in enumerate(pieces) if other.line == piece.line]
        if at in anchored and all(k in anchored for k in of_line):
            # The detected line as one again: its type's rows from all its words.
            if at != of_line[0]:
                continue
            text = " ".join(word for k in of_line for word in anchored[k])
            spans = [span for k in of_line for span in pieces[k].spans]
            whole_box = _box(boxes[piece.line])
            lines[at] = (whole_box, text, cut_at_ink(dark, whole_box, text, spans))
        elif at in anchored:
            text = " ".join(anchored[at])
            lines[at] = (piece.box, text, cut_at_ink(dark, piece.box, text, piece.spans))
    return [lines[at] for at in range(len(pieces)) if at in lines]


@dataclass(frozen=True, slots=True)
class _Piece:
    """A detected line, or the part of one on one side of a gutter the detector bridged."""

    line: int  # the detected line's index
    whole: bool  # the piece is the whole detected line
    box: Box
    top: int
    bottom: int
    spans: list[tuple[int, int]]


def _pieces(
    line: int, box: Box, top: int, bottom: int, spans: list[tuple[int, int]]
) -> list[_Piece]:
    """The line cut at blank runs wider than GUTTER_SHARE of its type's height."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[0] - groups[-1][-1][1] < GUTTER_SHARE * (bottom - top):
            groups[-1].append(span)
        else:
            groups.append([span])
    if len(groups) == 1:
        return [_Piece(line, True, box, top, bottom, groups[0])]
    return [
        _Piece(line, False, (float(g[0][0]), box[1], float(g[-1][1]), box[3]), top, bottom, g)
        for g in groups
    ]


def _quad(box: Box) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _crop(bgr: Any, piece: _Piece, crops: Sequence[Any]) -> Any:
    """The recogniser's crop of a whole line (turned upright), or a piece's as it sits."""
    import numpy as np

    if piece.whole:
        return crops[piece.line]
    x0, y0, x1, y1 = (round(v) for v in piece.box)
    return np.ascontiguousarray(bgr[max(y0, 0) : y1, max(x0, 0) : x1])


def _box(box: Any) -> Box:
    return (float(box.x0), float(box.y0), float(box.x1), float(box.y1))
