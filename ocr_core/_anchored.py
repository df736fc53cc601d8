"""Word boxes without reading whole lines: the service's words anchored on the ink.

Reading every detected line with the recogniser was ~80 % of locating a page's words. The
service has read the page already, so most lines need only be found in its text. A line is
cut into words at the wide blank column runs of its ink, and then, cheapest first:

- it takes the service's words that follow on from the line above it in its column when
  their widths fit its ink word by word (`_word_widths`): nothing of it is read;
- else only its first and last word are read (two short crops instead of the whole line)
  and it is the run of the service's words of the same count whose first and last words
  are those two, nearest where the line above ended;
- else it takes the words between its placed neighbours when their widths fit;
- else (a word broken by a hyphen, ink the service did not read) it is read whole as
  before (`cut_at_ink` with the recogniser's spans), so the alignment in `_locate` sees
  the same lines either way.

Runs in the locating sandbox worker (it imports the engine and cv2).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from ._line_pieces import (
    Piece,
    box_of,
    chain_of,
    detect_on_ink,
    follows,
    line_crop,
    lines_before,
    next_pieces,
    pieces_of,
    quad,
    word_spans,
)
from ._locate import normalise
from ._word_boxes import Box, cut_at_ink
from ._word_widths import WIDTH_FACTOR, Span, WordWidths

if TYPE_CHECKING:
    from .server._engine import RapidOcrEngine

# Blank columns left beside a word crop, as a share of the line's type height.
CROP_PAD_SHARE = 0.15
# Word crops are read side by side in strips about this wide (px at the recogniser's height).
STRIP_WIDTH = 1600
# How alike a word read from its crop and the service's word must be (rapidfuzz ratio) when
# both have three characters or more; shorter words must be equal.
MIN_ANCHOR_SIMILARITY = 70.0
# Rounds of reading the ends of the lines that do not fit where they stand (each round the
# ones whose line before is placed); what is left after them is read whole.
READ_ROUNDS = 8

Line = tuple[Box, str, list[Box]]


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
    the lines after it back where they are; one placed on a guess may then need reading).
    Each round reads the late lines whose widths fit nowhere and the first of each run of
    late lines; the others wait, as the line before them being read may place them."""
    from .server._gutters import find_gutters
    from .server._layout import TextBox, reading_order
    from .server._page_geometry import detection_scale

    # Detection at the scale the engine reads (reduced only for large type). Reduced further
    # for locating (to 0.72-0.81 of the size), it cost half and placed as many words as well,
    # but with the floor versions' onnxruntime the layout's order of its lines went across
    # the columns of multicolumn.pdf more often, and `check_order` no longer saw a text read
    # across them (8 steps back in 66 moves instead of 12 in 64). Only the part of the page
    # with ink is detected.
    quads, crops = detect_on_ink(engine, bgr, dark, detection_scale(dark))
    boxes = [TextBox.from_quad(corners, "?") for corners in quads]
    index = {id(box): n for n, box in enumerate(boxes)}
    pieces = [
        piece
        for line in reading_order(boxes)
        for box in line.boxes
        for piece in pieces_of(index[id(box)], box_of(box), *word_spans(dark, box_of(box)))
    ]
    said = [normalise(w) for w in words]
    # Piece -> its first and last word as read; without `unread`, every piece's are read.
    ends = {} if unread else _read_ends(engine, bgr, pieces, range(len(pieces)), said)
    widths = WordWidths(words)
    line_height = statistics.median(b.height for b in boxes) if boxes else 1.0
    before = lines_before(pieces, functools.cache(lambda: find_gutters(dark > 0, line_height)))
    after = next_pieces(len(pieces), before)
    settled = _settle(words, widths, pieces, before, after, ends)
    for round_ in range(READ_ROUNDS):
        late = settled.late
        if not late:
            break
        # A late piece that goes on from another late one may be placed by its widths once
        # that one is read, if its widths fit anywhere: it waits (but in the last round).
        if round_ < READ_ROUNDS - 1:
            late = [
                at
                for at in late
                if follows(at, before) not in late
                or not widths.placeable(chain_of(pieces, after, at))
            ]
        ends |= _read_ends(engine, bgr, pieces, late, said)
        settled = _settle(words, widths, pieces, before, after, ends)
    whole = sorted({*settled.whole, *settled.late})
    lines = _lines_of(engine, bgr, dark, boxes, crops, pieces, settled, whole)
    return Anchored(lines, len(pieces), len(ends), len(whole))


@dataclass(slots=True)
class _Settled:
    """Each placed piece's words as the page shows them (and its words' spans where they
    are not the piece's own), the pieces left to read whole, and the unread pieces that do
    not fit where they stand (their ends are to be read)."""

    words: dict[int, list[str]]
    spans: dict[int, list[Span]]
    whole: list[int]
    late: list[int]


@dataclass(frozen=True, slots=True)
class _Ends:
    """A piece's first and last word as read, and the runs of the service's words (`said`)
    they find: found once, though the piece is placed again in every round."""

    first: str
    last: str
    runs: list[Run]


def _read_ends(
    engine: RapidOcrEngine,
    bgr: Any,
    pieces: Sequence[Piece],
    chosen: Sequence[int],
    said: Sequence[str],
) -> dict[int, _Ends]:
    """The first and last word of each chosen piece, read from their crops (side by side),
    with the runs they find."""
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
        last = next(read) if len(pieces[at].spans) > 1 else first
        runs = []
        if normalise(first) and normalise(last):
            runs = find_runs(said, normalise(first), normalise(last), len(pieces[at].spans))
        ends[at] = _Ends(first, last, runs)
    return ends


def _settle(
    words: Sequence[str],
    widths: WordWidths,
    pieces: Sequence[Piece],
    before: Sequence[int | None],
    after: dict[int, int],
    ends: dict[int, _Ends],
) -> _Settled:
    """Each piece's words as the page shows them, in reading order. Each goes on from
    where the piece `before` it ended (`lines_before`: the piece above it in its column),
    else the one before it in reading order: an unread piece takes the words from there
    when their widths fit its ink (`WordWidths.unread_start`), a read one the run its ends
    find (`find_runs`) whose widths fit best, nearest there, and a piece neither places the
    words between the pieces placed on either side of it (`_between`)."""
    anchored: dict[int, list[str]] = {}
    placed: dict[int, tuple[int, int]] = {}  # piece -> its first word and the one after it
    whole: list[int] = []
    late: list[int] = []
    # Where each piece's words end, placed or guessed: the piece that goes on from it starts
    # there. Followed along the text's own chain of pieces, not the layout's order, which may
    # go back and forth between columns.
    ended: dict[int, int] = {}
    for at, piece in enumerate(pieces):
        spans = piece.spans
        expected = ended.get(follows(at, before), 0)
        if at not in ends:
            # Where the piece it goes on from is not placed, `expected` is a guess.
            guessed = at > 0 and follows(at, before) not in placed
            lines = chain_of(pieces, after, at)
            start = widths.unread_start(lines, expected, guessed=guessed)
            if start is None:
                late.append(at)
                # A piece to read moves the guess on by its count: the pieces after it are
                # placed on the guess, and placed again once its ends are read.
                ended[at] = expected + len(spans)
            else:
                anchored[at] = list(words[start : start + len(spans)])
                ended[at] = start + len(spans)
                placed[at] = (start, ended[at])
            continue
        first, last, runs = ends[at].first, ends[at].last, ends[at].runs
        # The run whose words' widths fit the ink best, then the nearest where the last ended.
        fits = [(widths.misfit_at(r.start, spans), r) for r in runs]
        fits = [(score, r) for score, r in fits if score <= math.log(WIDTH_FACTOR)]
        if not fits:
            whole.append(at)
            ended[at] = expected + len(spans)  # a guess again, which the next piece's fit checks
            continue
        run = min(fits, key=lambda fit: (round(fit[0], 1), abs(fit[1].start - expected)))[1]
        on_line = list(words[run.start : run.start + len(spans)])
        if run.first_cut:  # the page's piece of the word, as the whole line would read it
            on_line[0] = first
        if run.last_cut:
            on_line[-1] = last
        ended[at] = run.start + len(spans) - run.last_cut
        anchored[at] = on_line
        placed[at] = (run.start + run.first_cut, ended[at])
    settled = _Settled(anchored, {}, whole, late)
    for at in [*whole]:
        between = _between(widths, placed, follows(at, before), after.get(at), pieces[at].spans)
        if between is not None:
            start, spans = between
            anchored[at] = list(words[start : start + len(spans)])
            settled.spans[at] = spans
            whole.remove(at)
    return settled


def _between(
    widths: WordWidths,
    placed: dict[int, tuple[int, int]],
    previous: int,
    following: int | None,
    spans: Sequence[Span],
) -> tuple[int, list[Span]] | None:
    """The words between the placed pieces the text goes on from and into (`previous`,
    `following`) for a piece (where they start, and its spans for them) when their widths
    fit its ink, as it is or with one gap inside a word taken for a break joined again ("K
    jift"). Cutting such a line where its letters' share of the line puts each word, at the
    nearest gap, instead put 4 % of pdflatex-4-pages.pdf's words off their box."""
    if previous not in placed or following not in placed:
        return None
    start, end = placed[previous][1], placed[following][0]
    joined = widths.joined_to_fit(start, end - start, spans)
    return None if joined is None else (start, joined)


def _lines_of(
    engine: RapidOcrEngine,
    bgr: Any,
    dark: Any,
    boxes: Sequence[Any],
    crops: Sequence[Any],
    pieces: Sequence[Piece],
    settled: _Settled,
    whole: Sequence[int],
) -> list[Line]:
    """The lines with their word boxes: the placed pieces cut at their ink, the others read
    whole; a detected line all of whose pieces were placed is one line again."""
    anchored = settled.words
    from .server._lines import read_lines_of

    lines: dict[int, Line] = {}
    read_whole = read_lines_of(
        engine,
        [quad(pieces[at].box) for at in whole],
        [line_crop(bgr, pieces[at], crops) for at in whole],
    )
    for at, read_line in zip(whole, read_whole, strict=True):
        if read_line is not None:
            found, line_spans = read_line
            box = box_of(found)
            lines[at] = (box, found.text, cut_at_ink(dark, box, found.text, line_spans))
    for at, piece in enumerate(pieces):
        of_line = [k for k, other in enumerate(pieces) if other.line == piece.line]
        if at in anchored and all(k in anchored for k in of_line):
            # The detected line as one again: its type's rows from all its words.
            if at != of_line[0]:
                continue
            text = " ".join(word for k in of_line for word in anchored[k])
            spans = [span for k in of_line for span in settled.spans.get(k, pieces[k].spans)]
            whole_box = box_of(boxes[piece.line])
            lines[at] = (whole_box, text, cut_at_ink(dark, whole_box, text, spans))
        elif at in anchored:
            text = " ".join(anchored[at])
            spans = settled.spans.get(at, piece.spans)
            lines[at] = (piece.box, text, cut_at_ink(dark, piece.box, text, spans))
    return [lines[at] for at in range(len(pieces)) if at in lines]
