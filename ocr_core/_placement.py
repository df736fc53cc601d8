"""Every word of a page with a box: its own where it was located, else an estimated one.

A searchable PDF's text layer, hOCR and ALTO say every word the service read, found on the
page or not: a search must find it and a copy must say it. A word without a box gets one
estimated from the words around it:

- on a line where other words were located: in the gap between its located neighbours on
  that line (the gap shared out by characters), or after the last / before the first of
  them, as tall as they are;
- on a line where no word was located: in the band between the located lines before and
  after it in reading order (or the page's edges), the lines without boxes sharing the band
  evenly, the words set from the left of the page's text.

Every estimated box lies inside the page: poppler (pdftotext, Evince) drops text that lies
off the page, and no reader can select it there.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ._locate import LocatedWord, PageWords
from ._word_boxes import Box


def placed_words(words: PageWords) -> list[tuple[LocatedWord, Box]]:
    """Each word of `words`, in their order, with its box or an estimated one (see the
    module); located boxes are kept as they are."""
    width, height = float(max(words.width, 1)), float(max(words.height, 1))
    found = [w.box for w in words.words if w.box is not None]
    line_height = statistics.median(b[3] - b[1] for b in found) if found else height / 60
    line_height = min(max(line_height, 1.0), height)
    chars = sum(len(w.text) for w in words.words if w.box is not None)
    char_width = sum(b[2] - b[0] for b in found) / chars if chars else line_height / 2
    left, right = (min(b[0] for b in found), width) if found else (width / 20, width * 0.95)
    lines: dict[int, list[int]] = {}
    for i, word in enumerate(words.words):
        lines.setdefault(word.line, []).append(i)
    bands = _bands(words.words, lines, line_height, height)
    estimated: dict[int, Box] = {}
    for line, members in lines.items():
        top, bottom = bands[line]
        run: list[int] = []
        before: Box | None = None
        for i in [*members, -1]:  # -1: the line's end closes the last run
            box = words.words[i].box if i >= 0 else None
            if i >= 0 and box is None:
                run.append(i)
                continue
            if run:
                texts = [words.words[k].text for k in run]
                shared = _share(texts, before, box, (left, right), width, char_width)
                for k, (x0, x1) in zip(run, shared, strict=True):
                    estimated[k] = (x0, top, x1, bottom)
                run = []
            before = box
    return [
        (word, word.box if word.box is not None else estimated[i])
        for i, word in enumerate(words.words)
    ]


def _bands(
    words: Sequence[LocatedWord], lines: dict[int, list[int]], line_height: float, height: float
) -> dict[int, tuple[float, float]]:
    """Each line's top and bottom: its located words', or a share of the band between the
    located lines around it (the page's edges at the ends)."""
    bands: dict[int, tuple[float, float]] = {}
    for line, members in lines.items():
        boxes = [b for i in members if (b := words[i].box) is not None]
        if boxes:
            bands[line] = (min(b[1] for b in boxes), max(b[3] for b in boxes))
    order = list(lines)
    k = 0
    while k < len(order):
        if order[k] in bands:
            k += 1
            continue
        end = k
        while end < len(order) and order[end] not in bands:
            end += 1
        count = end - k
        top = _clamp(bands[order[k - 1]][1] if k else 0.0, 0.0, height)
        bottom = _clamp(bands[order[end]][0] if end < len(order) else height, 0.0, height)
        # Reading order may go up the page (the next column): then the band runs to the
        # page's foot, or over the whole page when the lines do not fit there either.
        room = count * line_height / 2
        for candidate in ((top, bottom), (top, height), (0.0, height)):
            if candidate[1] - candidate[0] >= room:
                top, bottom = candidate
                break
        else:
            top, bottom = 0.0, height
        pitch = (bottom - top) / count
        tall = min(line_height, pitch)
        for j, line in enumerate(order[k:end]):
            y0 = top + j * pitch + (pitch - tall) / 2
            bands[line] = (y0, y0 + tall)
        k = end
    return bands


def _share(
    texts: Sequence[str],
    before: Box | None,
    after: Box | None,
    text_span: tuple[float, float],
    width: float,
    char_width: float,
) -> list[tuple[float, float]]:
    """Boxes for a run of unlocated words of one line, between the located words `before`
    and `after` it on the line (either may be None), sized by their characters: each
    word's left and right."""
    units = sum(max(len(t), 1) for t in texts) + len(texts) - 1
    units += (before is not None) + (after is not None)  # a space next to each neighbour
    needed = units * char_width
    if before is None and after is None:
        lo, hi = text_span
    elif before is None:
        hi = after[0] if after is not None else width
        lo = max(0.0, hi - needed)
    else:
        lo = before[2]
        hi = after[0] if after is not None and after[0] > lo else lo + needed
    lo = _clamp(lo, 0.0, width - 1)
    hi = _clamp(hi, lo + 1, width)
    lo = min(lo, hi - 1)
    unit = min((hi - lo) / units, 2 * char_width)
    x = lo + unit * (before is not None)
    spans: list[tuple[float, float]] = []
    for text in texts:
        span = unit * max(len(text), 1)
        spans.append((x, min(x + span, width)))
        x += span + unit
    return spans


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


__all__ = ["placed_words"]
