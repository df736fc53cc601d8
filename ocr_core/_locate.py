"""Where each word of a page's text sits on the page image.

LightOnOCR returns text without positions. The embedded engine's detector and recogniser
(rapidocr, the `local` extra) find the page's lines with their own reading; the model's words
are aligned to those words (a sequence alignment over normalised words), so every model word
that the engine also saw gets a box, whichever service read the page. The recogniser reads
lines, but its CTC timesteps say where each of its words was seen; a line is cut into word
boxes at the widest blank columns between them, each box trimmed to its word's ink and
spanning its line's type (`cut_at_ink`). Given the service's words, most lines are not read
whole: only their first and last words are, and the line is found among the service's words
(`_anchored`: ~2x less CPU a page). Markdown structure (headings, table pipes, list
marks, emphasis) is stripped first: it is layout, not ink.

`python -m ocr_core.bench.locate` scores it on digital PDFs rendered to images, against
pdfium's character boxes.

Detection runs in a sandbox worker (bounded time and memory, like rendering), so the caller's
process never imports onnxruntime; without the `local` extra `LocatorUnavailable` is raised.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from ._exceptions import LocatorUnavailable
from ._sandbox import Sandbox, SandboxLimits
from ._word_boxes import Box, Pixels, read_word_boxes

# Detection holds ~600 MB of activations on a 2000 px page over the models' own memory.
LOCATE_LIMITS = SandboxLimits(memory_mb=2048, cpu_seconds=60.0, wall_seconds=60.0, workers=1)
# A model word and a detected word that differ by more than this (rapidfuzz ratio, 0-100)
# inside a stretch the alignment could not match are not taken for the same word.
MIN_WORD_SIMILARITY = 60.0

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
# The HTML a VLM writes for layout (tables, breaks, emphasis), not any text in angle
# brackets: "<lazy>" on a page is a word the page shows.
_HTML_TAG = re.compile(
    r"</?(?:table|thead|tbody|tfoot|tr|td|th|caption|colgroup|col|br|hr|p|div|span|b|i|u|em|"
    r"strong|sup|sub|s|del|ins|mark|small|img|a|ul|ol|li|h[1-6]|pre|code|blockquote)"
    r"(?:\s[^<>]{0,200})?/?>",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class LocatedWord:
    """One word of the service's text; `box` is None when the page shows no such word."""

    text: str
    box: Box | None
    line: int  # the word's line in the text (markdown structure stripped), from 0
    block: int  # its paragraph/block (lines between blank lines), in reading order, from 0


@dataclass(frozen=True, slots=True)
class DetectedLine:
    """A line the engine found: its box and its own reading."""

    box: Box
    text: str
    # One box per word of `text` (text.split() order), cut at the ink's gaps; () if unknown.
    word_boxes: tuple[Box, ...] = ()


@dataclass(frozen=True, slots=True)
class PageWords:
    """A page's words located on its image (`width` x `height` pixels)."""

    width: int
    height: int
    words: tuple[LocatedWord, ...]
    lines: tuple[DetectedLine, ...]

    def to_json(self) -> str:
        """Compact JSON of the page's size and words (boxes to 0.1 px); lines are left out."""
        words = [
            [w.text, None if w.box is None else [round(v, 1) for v in w.box], w.line, w.block]
            for w in self.words
        ]
        return json.dumps({"width": self.width, "height": self.height, "words": words})

    @classmethod
    def from_json(cls, text: str) -> PageWords:
        data = json.loads(text)
        words = tuple(
            LocatedWord(str(word), None if box is None else _box(box), int(line), int(block))
            for word, box, line, block in data["words"]
        )
        return cls(int(data["width"]), int(data["height"]), words, ())

    def scaled(self, width: int, height: int) -> PageWords:
        """The same words on the same page drawn `width` x `height` pixels (the scan's own
        size, where they were located on the rendering the service read)."""
        sx, sy = width / max(self.width, 1), height / max(self.height, 1)
        words = tuple(
            LocatedWord(
                w.text,
                None
                if w.box is None
                else (w.box[0] * sx, w.box[1] * sy, w.box[2] * sx, w.box[3] * sy),
                w.line,
                w.block,
            )
            for w in self.words
        )
        return PageWords(width, height, words, ())

    def blocks(self) -> list[tuple[int, Box]]:
        """Each block of the text (in the text's order) with the box around its located
        words: how the text's reading order walks over the page. A block that goes on in
        another column (its next word sits higher up the page) gives one box per column."""
        pieces: list[tuple[int, Box]] = []
        previous: LocatedWord | None = None
        for word in self.words:
            if word.box is None:
                continue
            x0, y0, x1, y1 = word.box
            moved_up = previous is not None and previous.box is not None and (y1 < previous.box[1])
            if not pieces or pieces[-1][0] != word.block or moved_up:
                pieces.append((word.block, word.box))
            else:
                block, (a0, b0, a1, b1) = pieces[-1]
                pieces[-1] = (block, (min(a0, x0), min(b0, y0), max(a1, x1), max(b1, y1)))
            previous = word
        return pieces

    @property
    def located_share(self) -> float:
        """The share of words that got a box (1.0 for a page without words)."""
        if not self.words:
            return 1.0
        return sum(w.box is not None for w in self.words) / len(self.words)


def _box(values: Sequence[float]) -> Box:
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


def text_lines(text: str) -> list[tuple[int, list[str]]]:
    """The text's lines as (block, words) with markdown structure stripped."""
    lines: list[tuple[int, list[str]]] = []
    block, blank = 0, False
    for raw in text.splitlines():
        if not raw.strip() or _TABLE_RULE.match(raw):
            blank = blank or not raw.strip()
            continue
        if blank and lines:
            block += 1
        blank = False
        line = _HEADING.sub("", raw)
        line = _LIST_MARK.sub("", line)
        line = _HTML_TAG.sub(" ", line)
        line = _EMPHASIS.sub("", line).replace("|", " ")
        words = line.split()
        if words:
            lines.append((block, words))
    return lines


def normalise(word: str) -> str:
    """A word as compared: NFKC, case-folded, without surrounding punctuation."""
    word = unicodedata.normalize("NFKC", word).casefold()
    stripped = word.strip(".,;:!?\"'()[]{}«»“”‘’-–—")
    return stripped or word


def split_line(line: DetectedLine) -> list[tuple[str, Box]]:
    """A line's words with boxes cut from the line's box in proportion to their characters."""
    x0, y0, x1, y1 = line.box
    text = line.text
    if not text.strip():
        return []
    if len(line.word_boxes) == len(text.split()):
        return list(zip(text.split(), line.word_boxes, strict=True))
    per_char = (x1 - x0) / max(len(text), 1)
    return [
        (m.group(), (x0 + m.start() * per_char, y0, x0 + m.end() * per_char, y1))
        for m in re.finditer(r"\S+", text)
    ]


def align(model: list[str], detected: list[str], passes: int = 3) -> list[int | None]:
    """For each model word, the index of the detected word it is, or None.

    The first pass aligns the two sequences as they are; later passes align what is left of
    each, so a column or caption the service read in another order than the engine is still
    matched (each pass finds the longest common run of what remains)."""
    a = [normalise(w) for w in model]
    b = [normalise(w) for w in detected]
    matched: list[int | None] = [None] * len(a)
    used: set[int] = set()
    for _ in range(passes):
        left_a = [i for i in range(len(a)) if matched[i] is None]
        left_b = [j for j in range(len(b)) if j not in used]
        if not left_a or not left_b:
            break
        found = 0
        ops = Indel.opcodes([a[i] for i in left_a], [b[j] for j in left_b])
        for op in ops:
            tag, i0, i1, j0 = str(op.tag), int(op.src_start), int(op.src_end), int(op.dest_start)
            if tag == "equal":
                for k in range(i1 - i0):
                    matched[left_a[i0 + k]] = left_b[j0 + k]
                    used.add(left_b[j0 + k])
                    found += 1
        if not found:
            break
    # A changed word (a misread) is a delete beside an insert: pair the unmatched model words
    # with similar unmatched detected words between the same anchors.
    _pair_gaps(a, b, matched, used)
    return matched


def _pair_gaps(a: list[str], b: list[str], matched: list[int | None], used: set[int]) -> None:
    i = 0
    while i < len(a):
        if matched[i] is not None:
            i += 1
            continue
        start = i
        while i < len(a) and matched[i] is None:
            i += 1
        before = next((matched[k] for k in range(start - 1, -1, -1) if matched[k] is not None), -1)
        after = next((matched[k] for k in range(i, len(a)) if matched[k] is not None), len(b))
        assert before is not None and after is not None
        if before < after:
            _pair_in_order(a, b, start, i, before + 1, after, matched, used)


def _pair_in_order(
    a: list[str],
    b: list[str],
    i0: int,
    i1: int,
    j0: int,
    j1: int,
    matched: list[int | None],
    used: set[int],
) -> None:
    """Model words a[i0:i1] matched greedily, in order, to similar words of b[j0:j1]."""
    j = j0
    for i in range(i0, i1):
        best, best_score = None, MIN_WORD_SIMILARITY
        for k in range(j, min(j1, j + 4)):
            if k in used:
                continue
            score = fuzz.ratio(a[i], b[k])
            if score >= best_score:
                best, best_score = k, score
        if best is not None:
            matched[i] = best
            used.add(best)
            j = best + 1


def place_words(text: str, lines: list[DetectedLine]) -> list[LocatedWord]:
    """The text's words, each with the box of the detected word it aligns to (pure, no engine)."""
    pieces = [piece for line in lines for piece in split_line(line)]
    structured = text_lines(text)
    model = [(n, block, word) for n, (block, words) in enumerate(structured) for word in words]
    matched = align([w for _, _, w in model], [w for w, _ in pieces])
    return [
        LocatedWord(word, pieces[j][1] if j is not None else None, n, block)
        for (n, block, word), j in zip(model, matched, strict=True)
    ]


def engine_available() -> bool:
    """Whether the `local` extra (the embedded engine) is installed."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


_sandbox: Sandbox | None = None
_sandbox_lock = threading.Lock()


def _locate_sandbox() -> Sandbox:
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            _sandbox = Sandbox(LOCATE_LIMITS)
            atexit.register(_sandbox.close)
        return _sandbox


def _pixels(image: Image.Image) -> Pixels:
    """The page's RGB pixels as they are: encoding a PNG for the worker and decoding it
    there cost ~0.08 s a page, a tenth of locating it; the raw bytes cross the pipe in a
    few ms."""
    if not engine_available():
        raise LocatorUnavailable(
            "locating words needs the embedded engine: install ocr_core with the `local` extra"
        )
    rgb = image.convert("RGB")
    return rgb.width, rgb.height, rgb.tobytes()


def _lines(found: list[tuple[Box, str, list[Box]]]) -> list[DetectedLine]:
    return [DetectedLine(box, text, tuple(words)) for box, text, words in found]


def detect_lines(image: Image.Image, *, sandbox: Sandbox | None = None) -> list[DetectedLine]:
    """The engine's lines on the page, detected in a sandbox worker."""
    return _lines((sandbox or _locate_sandbox()).run(read_word_boxes, _pixels(image)))


# How much of a page locating reads: "least", lines placed by their words' widths where
# they fit and only the ends of the others read (`_word_widths`, `_anchored`); "ends", the
# first and last word of every line read and the line found in the text; "whole", every
# line read whole (locating before issue 34).
Reading = Literal["least", "ends", "whole"]


def service_words(text: str) -> list[str]:
    """The words of a service's answer as they sit on the page (markdown stripped), in its
    order: what `_anchored` finds the page's lines among."""
    return [word for _, words in text_lines(text) for word in words]


def locate_words(
    image: Image.Image, text: str, *, sandbox: Sandbox | None = None, reading: Reading = "least"
) -> PageWords:
    """Each word of `text` (the service's answer for this page) with its box on `image`.
    How much of the page the engine reads to find them (`Reading`) is the bench's to vary."""
    lines: list[DetectedLine] = []
    if text.strip():
        given = None if reading == "whole" else service_words(text)
        found = (sandbox or _locate_sandbox()).run(
            read_word_boxes, _pixels(image), given, reading == "least"
        )
        lines = _lines(found)
    words = place_words(text, lines)
    return PageWords(image.width, image.height, tuple(words), tuple(lines))


async def alocate_words(
    image: Image.Image, text: str, *, sandbox: Sandbox | None = None
) -> PageWords:
    """`locate_words` without holding a thread while the sandbox works (cancelling it
    stops the worker)."""
    lines: list[DetectedLine] = []
    if text.strip():
        pixels = await asyncio.to_thread(_pixels, image)
        given = service_words(text)
        lines = _lines(await (sandbox or _locate_sandbox()).arun(read_word_boxes, pixels, given))
    words = await asyncio.to_thread(place_words, text, lines)
    return PageWords(image.width, image.height, tuple(words), tuple(lines))


__all__ = [
    "DetectedLine",
    "LocatedWord",
    "PageWords",
    "alocate_words",
    "detect_lines",
    "engine_available",
    "locate_words",
    "place_words",
    "text_lines",
]
