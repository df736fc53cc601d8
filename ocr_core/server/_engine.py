"""OCR engines behind the local server: page image in, markdown text out.

`rapidocr` runs PaddleOCR's detection and recognition models with onnxruntime on the CPU;
the models ship inside the rapidocr wheel, so loading needs no network. `simulated` does no
OCR: it holds a slot for a fixed service time and answers deterministically, which is what
throughput benchmarks and fast console tests need.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from ._gutters import find_gutters, trim_to_gutters
from ._layout import TextBox, render
from ._orientation import is_sideways, is_upside_down
from ._page_geometry import (
    Detection,
    alone_in_its_row,
    detection_scale,
    group_into_words,
    half_turn,
    ink,
    mostly_inside,
    turn,
)
from ._priming import priming_page
from ._recognize import SPACE_PROBABILITY, RecognizedLine, Recognizer
from ._sessions import cpu_cores, resize_sessions
from ._skew import deskewed, skew_degrees

ENGINES = ("rapidocr", "simulated")
# The longest page side, in pixels, each engine reads best at. The server states it in its
# /v1/models entry as `preferred_longest_side`; a client that finds it renders pages to it
# instead of the model card's 1540 px (vLLM never lists it, so the GPU path keeps 1540).
# Measured with `python -m ocr_core.bench --only quality` (see `ocr_core.bench._quality`).
PREFERRED_LONGEST_SIDE: dict[str, int] = {"rapidocr": 2000}
# A piece of a split box narrower than this (in line heights) is the edge of the next
# column's first letter that the detector's padding swallowed, not text of its own.
MIN_PIECE_LINE_HEIGHTS = 0.6
# A box read below the recogniser's score bar is read once more with this margin (in line
# heights): the detector cuts a lone glyph tightly (the page number "1" of multicolumn.pdf came
# with its top and foot cut off and read at 0.06).
REREAD_MARGIN_LINE_HEIGHTS = 0.3
# Ink no box covers is read as a lone mark when its height is within these line heights
# (a glyph, not a speck or a picture), and only when a page has at most this many such words.
LONE_MARK_LINE_HEIGHTS = (0.4, 1.5)
MAX_LONE_MARKS = 12
# Glyph-sized marks no box covers on a page of text are a handful; this many is a picture.
MAX_LONE_MARK_GLYPHS = 400


@dataclass(frozen=True, slots=True)
class EngineResult:
    """One page's text and how it was obtained."""

    text: str
    boxes: int = 0  # text boxes the engine read: 0 on a page it found blank
    seconds: float = 0.0
    # One natural-log probability per word of `text` (text.split() order); () if unknown.
    word_logprobs: tuple[float, ...] = ()
    turned: int = 0  # degrees clockwise the page was turned to read it upright


class Engine(Protocol):
    """What the server needs from an engine. `read` is blocking; the server calls it in a thread."""

    name: str

    def read(self, image: Image.Image) -> EngineResult: ...

    def prime(self) -> None:
        """Run once before the first page, so the first page costs what every later one does."""


class RapidOcrEngine:
    """PaddleOCR models through rapidocr_onnxruntime, with our own decoding and reading order.

    The page is turned upright first (see `_orientation`), lines are recognised with spaces
    kept and a log-probability per word (see `_recognize`), small text that has a row to
    itself is found again (a page number), boxes merged across a column gutter are cut and
    read again, and `_layout` puts the lines in reading order.

    Speed (a dense page took 20-45 s through the server on two cores): one detection serves
    orientation and reading (turned with an upside-down page), large type is detected at a
    reduced size, the sessions do not spin, and a page's lines are read side by side on the
    cores. `python -m ocr_core.bench --only quality` shows each lever's s/page beside F1.
    """

    name = "rapidocr"

    def __init__(
        self,
        threads: int | None = None,
        *,
        # onnxruntime sessions sized to the machine and a page's lines read side by side
        # (`python -m ocr_core.bench --only quality`, lever "sessions sized to the machine").
        tuned: bool = True,
        # Detection at a size chosen from the page's glyph height (lever "detection sized to
        # the type"; see `detection_scale`).
        sized_detection: bool = True,
        # An upside-down page keeps the detection that found it so, turned with it, instead
        # of being detected again (lever "one detection for an upside-down page").
        turn_detection: bool = True,
        space_probability: float = SPACE_PROBABILITY,
        orient: bool = True,
        tables: bool = True,
        flip_lines: bool = False,
        padded_batches: bool = False,
        # Lone page numbers and running heads: doubtful boxes alone in their row read again,
        # and ink no box covers read as lone marks (`python -m ocr_core.bench --only
        # quality`, lever "small text kept": no line of the digital PDFs is lost with it).
        small_text: bool = True,
        # A scan a little off square is straightened before its lines are read (`_skew`;
        # lever "skewed scans straightened": the skewed magazine and dense pages).
        deskew: bool = True,
        # Word spaces from blank ink between characters the path joined (`_recognize`).
        ink_spaces: bool = True,
    ) -> None:
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]  # lazy: extra

        options: dict[str, Any] = {}
        if threads and not tuned:
            options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
        self._ocr = RapidOCR(**options)
        # Threads one page uses; pages read at once share the recogniser's workers, so the
        # engine never runs more line reads than this at a time.
        self.threads = threads or cpu_cores()
        workers: ThreadPoolExecutor | None = None
        if tuned:
            resize_sessions(self._ocr, self.threads)
            workers = ThreadPoolExecutor(self.threads, thread_name_prefix="ocr-lines")
        self._small_text = small_text
        self._deskew = deskew
        self._sized_detection = sized_detection
        self._turn_detection = turn_detection
        self._recognize = Recognizer(
            self._ocr.text_rec,
            space_probability,
            padded_batches,
            workers=workers,
            ink_spaces=ink_spaces,
        )
        # One page in detection at a time (~600 MB of activations at 2000 px; two at once took
        # the server to 1.4 GB); lines of pages already detected are read meanwhile.
        self._detecting = threading.Lock()
        self._orient = orient
        self._tables = tables
        self._flip_lines = flip_lines  # rapidocr's own way: each crop the classifier calls 180

    def prime(self) -> None:
        """Read a page once: onnxruntime plans and allocates on a session's first runs (the
        first page after a start took seconds longer than the same page again)."""
        self.read(priming_page())

    def read(self, image: Image.Image) -> EngineResult:
        import numpy as np

        started = time.perf_counter()
        rgb = image.convert("RGB")
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # rapidocr expects cv2's BGR
        dark = ink(bgr)
        scale = detection_scale(dark) if self._sized_detection else 1.0
        bgr, turned, found = self._upright(bgr, scale)
        dark = turn(dark, turned)
        skew = skew_degrees(found[0]) if self._deskew and found is not None else 0.0
        boxes = self._read_boxes(bgr, found, scale)
        if boxes:
            if self._small_text:
                boxes += self._lone_marks(bgr, dark, boxes)
            if len(boxes) > 1:
                boxes = self._split_at_gutters(bgr, dark, boxes)
        text, logprobs = render(deskewed(boxes, skew, bgr.shape) if skew else boxes, self._tables)
        seconds = time.perf_counter() - started
        return EngineResult(text, len(boxes), seconds, tuple(logprobs), turned)

    def _detect(self, bgr: Any, scale: float = 1.0, *, classify: bool = True) -> Detection:
        """Boxes found on the page reduced by `scale`, crops cut from the full-size page;
        without `classify` (locating words on a page taken as it stands) no 0/180 votes."""
        import cv2
        import numpy as np

        ocr = self._ocr
        height, width = bgr.shape[:2]
        img, ratio_h, ratio_w = ocr.preprocess(bgr)
        record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
        img, record = ocr.maybe_add_letterbox(img, record)
        seen = img
        if scale < 1:
            seen = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        with self._detecting:
            quads, _ = ocr.auto_text_det(seen)
        if quads is None:
            return [], [], []
        if seen is not img:
            factors = np.array(
                [img.shape[1] / seen.shape[1], img.shape[0] / seen.shape[0]], dtype=np.float32
            )
            limits = np.array([img.shape[1] - 1, img.shape[0] - 1], dtype=np.float32)
            quads = [np.minimum(np.asarray(q, dtype=np.float32) * factors, limits) for q in quads]
        # The crops stay as cut: the page is turned as a whole (see `_upright`), and a crop
        # the classifier flips on its own is read as garbage when the classifier is wrong.
        crops = ocr.get_crop_img_list(img, quads)
        points = list(ocr._get_origin_points(quads, record, height, width))
        if not classify:
            return points, crops, []
        flipped, classified, _ = ocr.text_cls(crops)
        if self._flip_lines:
            crops = flipped
        return points, crops, [(str(label), float(score)) for label, score in classified]

    def _upright(self, bgr: Any, scale: float) -> tuple[Any, int, Detection | None]:
        """The page turned so its text reads left to right, the clockwise turn applied, and
        the detection of the turned page when it is already at hand."""
        import cv2

        if not self._orient:
            return bgr, 0, None
        found = self._detect(bgr, scale)
        turned = 0
        if is_sideways(found[0]):
            bgr = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
            turned = 90
            found = self._detect(bgr, scale)
        if found[1] and is_upside_down(found[2], found[1]):
            height, width = bgr.shape[:2]
            again = half_turn(found, width, height) if self._turn_detection else None
            return cv2.rotate(bgr, cv2.ROTATE_180), (turned + 180) % 360, again
        return bgr, turned, found

    def _read_boxes(self, bgr: Any, found: Detection | None, scale: float) -> list[TextBox]:
        quads, crops, _ = found if found is not None else self._detect(bgr, scale)
        lines = self._recognize(crops)
        boxes = [
            TextBox.from_quad(quad, line.text, line.word_logprobs)
            for quad, line in zip(quads, lines, strict=True)
        ]
        doubtful = [i for i, line in enumerate(lines) if line.score < self._ocr.text_score]
        if self._small_text and doubtful:
            unsure = set(doubtful)
            confident = [b for i, b in enumerate(boxes) if i not in unsure]
            alone = [i for i in doubtful if alone_in_its_row(boxes[i], confident)]
            for i, line in zip(
                alone, self._reread(bgr, [boxes[i] for i in alone], boxes), strict=True
            ):
                lines[i] = line
                box = boxes[i]
                boxes[i] = TextBox(box.x0, box.y0, box.x1, box.y1, line.text, line.word_logprobs)
        return [
            box
            for box, line in zip(boxes, lines, strict=True)
            if line.text.strip() and line.score >= self._ocr.text_score
        ]

    def _reread(
        self, bgr: Any, doubtful: list[TextBox], boxes: list[TextBox]
    ) -> list[RecognizedLine]:
        """Boxes read again with a margin around them (doubtful boxes and lone marks).

        A re-read that is only punctuation is dropped: it is a line's hyphen or comma the
        detector boxed on its own, and kept alone in a column gutter it would close the gutter.
        """
        line_height = float(statistics.median(b.height for b in boxes))
        pad = max(2, round(REREAD_MARGIN_LINE_HEIGHTS * line_height))
        height, width = bgr.shape[:2]
        crops = [
            bgr[
                max(0, int(b.y0) - pad) : min(height, int(b.y1) + pad + 1),
                max(0, int(b.x0) - pad) : min(width, int(b.x1) + pad + 1),
            ]
            for b in doubtful
        ]
        return [
            line if any(c.isalnum() for c in line.text) else RecognizedLine("", 0.0, ())
            for line in self._recognize(crops)
        ]

    def _lone_marks(self, bgr: Any, dark: Any, boxes: list[TextBox]) -> list[TextBox]:
        """Ink the detector boxed nowhere and that has its row to itself, read as text.

        The detector does not see a lone thin glyph at all (the page number "1" at the foot
        of minimal-document.pdf, 8 x 17 px at 2000 px, is found at no box threshold down to
        0.2). Marks of about a glyph's height are grouped into words and read with a margin;
        only a confident, alphanumeric reading is kept, and a page with many such marks (a
        picture, a noisy scan) is left as it is, which bounds the extra work.
        """
        import cv2

        line_height = float(statistics.median(b.height for b in boxes))
        pad = max(2, round(REREAD_MARGIN_LINE_HEIGHTS * line_height))
        height, width = dark.shape
        uncovered = dark.copy()
        for b in boxes:
            uncovered[
                max(0, int(b.y0) - pad) : min(height, int(b.y1) + pad + 1),
                max(0, int(b.x0) - pad) : min(width, int(b.x1) + pad + 1),
            ] = 0
        count, _, stats, _ = cv2.connectedComponentsWithStats(uncovered, connectivity=8)
        marks = [
            TextBox(float(x), float(y), float(x + w), float(y + h), "")
            for x, y, w, h, _ in stats[1:count]
            if LONE_MARK_LINE_HEIGHTS[0] * line_height
            <= h
            <= LONE_MARK_LINE_HEIGHTS[1] * line_height
            and w <= LONE_MARK_LINE_HEIGHTS[1] * line_height
        ]
        if len(marks) > MAX_LONE_MARK_GLYPHS:
            return []  # a picture or a noisy scan: bounded before the row test and grouping
        marks = [m for m in marks if alone_in_its_row(m, boxes)]
        words = group_into_words(marks, gap=line_height)
        if not words or len(words) > MAX_LONE_MARKS:
            return []
        found = []
        for word, line in zip(words, self._reread(bgr, words, boxes), strict=True):
            if line.score >= self._ocr.text_score:
                found.append(
                    TextBox(
                        word.x0, word.y0, word.x1, word.y1, line.text.strip(), line.word_logprobs
                    )
                )
        return found

    def _split_at_gutters(self, bgr: Any, dark: Any, boxes: list[TextBox]) -> list[TextBox]:
        """Cut boxes the detector merged across a column gutter and read each half again.

        Boxes that only reach into a gutter (the detector pads them) are trimmed to its
        edge, so the layout sees the full gutter between the columns.
        """
        import numpy as np

        line_height = float(np.median([b.height for b in boxes]))
        gutters = find_gutters(dark.astype(bool), line_height)
        if not gutters:
            return boxes
        kept: list[TextBox] = []
        pieces: list[TextBox] = []
        for box in boxes:
            crossed = sorted((g for g in gutters if g.crossed_by(box)), key=lambda g: g.x0)
            if not crossed:
                kept.append(trim_to_gutters(box, gutters))
                continue
            edges = [box.x0, *(x for g in crossed for x in (g.x0, g.x1)), box.x1]
            for x0, x1 in zip(edges[::2], edges[1::2], strict=True):
                if x1 - x0 >= MIN_PIECE_LINE_HEIGHTS * line_height:
                    pieces.append(TextBox(x0, box.y0, x1, box.y1, ""))
        pieces = [p for p in pieces if not any(mostly_inside(p, other) for other in kept)]
        if not pieces:
            return kept
        pad = max(2, round(0.15 * line_height))
        height, width = bgr.shape[:2]
        crops = [
            bgr[
                max(0, int(p.y0)) : min(height, int(p.y1) + 1),
                max(0, int(p.x0) - pad) : min(width, int(p.x1) + pad),
            ]
            for p in pieces
        ]
        for piece, line in zip(pieces, self._recognize(crops), strict=True):
            if line.text.strip() and line.score >= self._ocr.text_score:
                kept.append(
                    TextBox(piece.x0, piece.y0, piece.x1, piece.y1, line.text, line.word_logprobs)
                )
        return kept


class SimulatedEngine:
    """Fixed service time per page and text that depends only on the image size."""

    name = "simulated"

    def __init__(self, service_time: float = 0.5) -> None:
        if service_time < 0:
            raise ValueError("service_time must be >= 0")
        self.service_time = service_time

    def read(self, image: Image.Image) -> EngineResult:
        started = time.perf_counter()
        time.sleep(self.service_time)
        width, height = image.size
        text = f"simulated page {width}x{height}\n\nThis text stands in for the OCR of one page."
        certain = tuple(0.0 for _ in text.split())
        return EngineResult(text, 0, time.perf_counter() - started, certain)

    def prime(self) -> None:
        """Nothing to warm: the simulated engine has no models."""


def load_engine(name: str = "rapidocr", **opts: Any) -> Engine:
    """Build an engine by name; `opts` go to its constructor (`service_time`, `threads`)."""
    if name == "rapidocr":
        return RapidOcrEngine(**opts)
    if name == "simulated":
        return SimulatedEngine(**opts)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
