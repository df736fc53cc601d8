"""The service's words placed on a line's ink by their widths alone, without reading it.

A word is about as wide as its letters: "ill" narrow, "mom" wide. A detected line cut into
words at its ink's gaps (`_anchored.word_spans`) has a width for each word, so the run of
the service's words whose widths in ems are proportional to them, word by word, is that
line's text. Along a page the runs follow on from one another; where the detector's line
and the text's words do not (a word cut in two, the layout's order not the text's), the
line is found again by where only it fits, or its ends are read (`_anchored`).

Runs in the locating sandbox worker (numpy is the local extra's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# A word's ink per em may differ from its line's median by at most this factor when its
# first and last words were read and found (`_anchored`), and by FIT_FACTOR when nothing of
# the line was read. On the bench's pages (lines of 4 words or more, placed by their ends)
# the right run's misfit was at most 0.36 (log), 99 % under 0.23; the same line taken one
# or two words off was never under 0.27, 1 % under 0.42: 1.3 (0.26) kept 99.5 % of the
# right runs and none of the wrong; 1.8 let 4 % of the wrong in.
WIDTH_FACTOR = 2.5
FIT_FACTOR = 1.3
# A line is placed unread on its own widths when it has at least this many words; a shorter
# one when it and the lines its text goes on into have as many and fit together. A line of
# MIN_ALONE_WORDS is also found again by its widths within RESYNC_WORDS of where the line
# before it ended.
MIN_ALONE_WORDS = 8
RESYNC_WORDS = 3

# Letters' widths in ems, near enough for the common text faces (Helvetica's and Times'
# metrics, rounded into a few classes).
_EMS = {
    **dict.fromkeys("ijlI.,:;'!|`·", 0.25),
    **dict.fromkeys('frt-()[]{}"/*°', 0.33),
    **dict.fromkeys("mwMW%@", 0.85),
    **dict.fromkeys("ABCDEFGHKLNOPQRSTUVXYZ&", 0.68),
}
DEFAULT_EM = 0.52

Span = tuple[int, int]


def ems(word: str) -> float:
    """The word's width in ems as a common text face sets it (at least one letter's)."""
    return max(sum(_EMS.get(char, DEFAULT_EM) for char in word), DEFAULT_EM)


def misfit(on_line: Sequence[str], spans: Sequence[Span]) -> float:
    """How far the word whose ink is least as wide as its letters say is from it (the
    largest |log| of its ink per em over the line's median): a gap inside a word taken for
    a break and two words taken for one keep the count, not the widths."""
    import numpy as np

    return float(_misfits(np.array([[ems(word) for word in on_line]]), spans)[0])


def _misfits(windows: Any, spans: Sequence[Span]) -> Any:
    """`misfit` of the line's ink against each row of `windows` (its words' ems, one run of
    words per row)."""
    import numpy as np

    ink = np.array([max(b - a, 1e-6) for a, b in spans], dtype=np.float64)
    per_em = np.log(ink / windows)
    median = np.sort(per_em, axis=1)[:, len(spans) // 2]
    return np.abs(per_em - median[:, None]).max(axis=1)


class WordWidths:
    """The service's words' widths in ems, for finding where a line's ink fits them."""

    def __init__(self, words: Sequence[str]) -> None:
        import numpy as np

        self._ems: Any = np.array([ems(word) for word in words], dtype=np.float64)

    def misfits(self, spans: Sequence[Span]) -> Any:
        """`misfit` of the line at every start among the words (an array, one per start)."""
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        if not spans or len(spans) > len(self._ems):
            return np.empty(0)
        return _misfits(sliding_window_view(self._ems, len(spans)), spans)

    def misfit_at(self, start: int, spans: Sequence[Span]) -> float:
        """`misfit` of the line with the words from `start` (inf where they run out)."""
        if start < 0 or start + len(spans) > len(self._ems) or not spans:
            return math.inf
        return float(_misfits(self._ems[None, start : start + len(spans)], spans)[0])

    def fits(self, start: int, spans: Sequence[Span]) -> bool:
        """Whether the words from `start` are as wide as the line's ink (FIT_FACTOR)."""
        return self.misfit_at(start, spans) <= math.log(FIT_FACTOR)

    def unread_start(
        self, lines: Sequence[Sequence[Span]], expected: int, *, guessed: bool = False
    ) -> int | None:
        """Where the first of `lines` (its words' ink; the lines its text goes on into, if
        any, next) starts among the words without any of it read, if its widths tell:

        - at `expected` (where the line before ended) when its words fit there and it has
          MIN_ALONE_WORDS or more, or, unless `expected` is `guessed` (the line before was
          not placed, only its words counted), when it and the lines after it have that
          many words and all fit there together, one line's ink per em for all of them (a
          line the detector cut at its wide spaces into pieces of two or three words, each
          of which would fit anywhere). A short line's own fit is not enough: two lines of
          five words can be as wide word by word ("Quisque egestas wisi eget nunc." and
          "Maecenas lacinia. Nam ipsum ligula," on multicolumn.pdf);
        - else, for a line of MIN_ALONE_WORDS or more, the one start within RESYNC_WORDS
          of `expected` where it fits (a word the detector cut in two, or a line read whole
          whose count was off, leaves the guess a word or two out). Not further: a line
          found by its widths anywhere on the page was wrong too often (multicolumn.pdf
          97.4 -> 96.3 % of words at IoU >= 0.5); one whose ends are read is found there."""
        line = lines[0]
        if self.fits(expected, line):
            if len(line) >= MIN_ALONE_WORDS:
                return expected
            joined = [] if guessed else _joined(lines)
            if len(joined) >= MIN_ALONE_WORDS and self.fits(expected, joined):
                return expected
        if len(line) < MIN_ALONE_WORDS:
            return None
        fitting = (self.misfits(line) <= math.log(FIT_FACTOR)).nonzero()[0]
        found = [int(s) for s in fitting if s != expected and abs(s - expected) <= RESYNC_WORDS]
        return found[0] if len(found) == 1 else None

    def placeable(self, lines: Sequence[Sequence[Span]]) -> bool:
        """Whether `unread_start` could place the first of `lines` anywhere: a line of
        fewer words than MIN_ALONE_WORDS with the lines after it, or whose words fit at no
        start, is placed only by reading it."""
        line = lines[0] if len(lines[0]) >= MIN_ALONE_WORDS else _joined(lines)
        if len(line) < MIN_ALONE_WORDS:
            return False
        return bool((self.misfits(line) <= math.log(FIT_FACTOR)).any())

    def joined_to_fit(self, start: int, count: int, spans: Sequence[Span]) -> list[Span] | None:
        """The line's spans as `count` words from `start`: as they are when they fit, or
        with the two neighbours joined whose join fits best when the ink shows one gap too
        many (a gap inside a word taken for a break: "K jift"); None when nothing fits."""
        if count == len(spans):
            return list(spans) if self.fits(start, spans) else None
        if count < 1 or count != len(spans) - 1 or start < 0 or start + count > len(self._ems):
            return None
        joins = [
            [*spans[:k], (spans[k][0], spans[k + 1][1]), *spans[k + 2 :]]
            for k in range(len(spans) - 1)
        ]
        scored = [(self.misfit_at(start, joined), joined) for joined in joins]
        best, joined = min(scored, key=lambda found: found[0])
        return joined if best <= math.log(FIT_FACTOR) else None


def _joined(lines: Sequence[Sequence[Span]]) -> list[Span]:
    """The spans of the first lines, up to MIN_ALONE_WORDS words (or all there are)."""
    joined: list[Span] = []
    for spans in lines:
        joined += spans
        if len(joined) >= MIN_ALONE_WORDS:
            break
    return joined
