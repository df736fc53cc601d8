"""Line recognition that keeps word spaces and reports how sure it is of every word.

PaddleOCR's PP-OCRv4 recogniser (the model rapidocr ships) was trained mostly on Chinese,
where lines have no spaces: on Latin text its greedy CTC path often skips the space
between two words ("Thisisasampledocument") even though the space class keeps a clear
share of the probability in the gap (0.15-0.5 where a word break is on multicolumn.pdf,
under 0.02 inside words). Decoding the same output with a lower bar for the space class puts
the spaces back without a second model. Where the space class says nothing (narrow type
set tight: "bankinterest" on the synthetic magazine pages), the crop's ink still shows the
word break: a blank column run as wide as a word space between the two characters.

The probabilities of the characters kept on the path also give each word a log-probability,
which the server reports as vLLM-style token logprobs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

# A gap between two characters whose best space probability reaches this is a word break.
# Word F1 at 1540 px (minimal-document.pdf, turned letter): 0.08 -> 0.935/0.972,
# 0.04 -> 0.965, 0.02 -> 0.980/1.000 (lower bars not tried: they may split words).
SPACE_PROBABILITY = 0.02
# A blank run of a crop's ink at least this share of its type's height (ascenders to
# descenders) between two characters written without a space is a word space (a space is
# 0.25-0.33 em, about 0.2-0.3 of that height; the gaps inside a word stay under 0.1).
INK_GAP_SHARE = 0.2
# Where the path wrote spaces at ink gaps of the line, a gap must be at least this share of
# their median width to be taken for a space it missed.
INK_GAP_OF_SPACES = 0.7
INK_GAP_ALONE_SHARE = 0.3
# An ink gap is a space only where the space class stirred at all: at least this much where
# the spaces the path missed are (0.004-0.02 on the synthetic magazine and wrap pages), ten
# times what it gives the gaps inside words (under 0.0004: "ll" in "call", which a page read
# at 0.65 of its size shows as wide as that line's word spaces).
INK_SPACE_PROBABILITY = 0.001
# Crops whose darkest and lightest pixels differ less than this have no ink to measure.
MIN_INK_CONTRAST = 64
# Log-probability floor: a character the model gave (almost) nothing still counts finitely.
MIN_LOGPROB = -20.0
BLANK = 0  # CTC blank: index 0 of the recogniser's character list


@dataclass(frozen=True, slots=True)
class RecognizedLine:
    """One line crop's text, its mean character probability, and one log-prob per word."""

    text: str
    score: float
    word_logprobs: tuple[float, ...]
    # Where each word (text.split() order) sits across the crop, as fractions of its width:
    # from its first character's first timestep to its last character's last (CTC peaks
    # sit inside the glyphs, so the ink's gaps between spans are the word gaps).
    word_spans: tuple[tuple[float, float], ...] = ()


def _log(probability: float) -> float:
    return max(MIN_LOGPROB, math.log(probability)) if probability > 0 else MIN_LOGPROB


def ink_gaps(crop: np.ndarray) -> list[tuple[float, float]]:
    """The middles (fractions of the crop's width) and widths (in type heights) of the blank
    column runs between the crop's first and last ink at least INK_GAP_SHARE of it wide.

    The type is the band of inked rows holding the most ink (a neighbouring line's
    descenders reaching into the crop are a band of their own)."""
    gray = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
    low, high = float(gray.min()), float(gray.max())
    if high - low < MIN_INK_CONTRAST or crop.shape[1] == 0:
        return []
    dark = gray < (low + high) / 2
    inked_rows = np.concatenate([[False], dark.any(axis=1), [False]]).astype(np.int8)
    starts = np.flatnonzero(np.diff(inked_rows) == 1)
    ends = np.flatnonzero(np.diff(inked_rows) == -1)
    ink_per_row = dark.sum(axis=1)
    top, bottom = max(zip(starts, ends, strict=True), key=lambda b: ink_per_row[b[0] : b[1]].sum())
    columns = np.concatenate([[True], dark[top:bottom].any(axis=0), [True]]).astype(np.int8)
    blank_starts = np.flatnonzero(np.diff(columns) == -1)  # column index where a run starts
    blank_ends = np.flatnonzero(np.diff(columns) == 1)
    wide = max(2.0, INK_GAP_SHARE * (bottom - top))
    width = crop.shape[1]
    return [
        ((a + b) / 2 / width, float(b - a) / (bottom - top))
        for a, b in zip(blank_starts, blank_ends, strict=True)
        if b - a >= wide and a > 0 and b < width  # not the margins before and after the ink
    ]


def decode(
    probs: np.ndarray,
    charset: Sequence[str],
    space_probability: float = SPACE_PROBABILITY,
    word_gaps: Sequence[tuple[float, float]] = (),
) -> RecognizedLine:
    """Greedy CTC decoding of one line's (timesteps, classes) probabilities, spaces restored.

    Between two characters, a space is written when the path itself holds one, when the
    space class reached `space_probability` anywhere in the gap, or when one of `word_gaps`
    (blank ink: its middle in timesteps, its width) lies between two letters' timesteps
    (`_insert_ink_spaces`). A word's
    log-probability is the sum of its characters' (each the best probability over its run
    of timesteps).
    """
    space = len(charset) - 1  # rapidocr appends " " as the last class
    best = probs.argmax(axis=1)
    chars: list[str] = []
    char_probs: list[float] = []
    char_steps: list[tuple[int, int]] = []  # each character's first and last timestep
    gap_space = 0.0  # best space probability since the last character
    previous = BLANK
    written: list[float] = []  # widths of the ink gaps where the path wrote a space
    inked: list[tuple[int, int, float]] = []  # (index, step, width) of unwritten ink gaps
    for step, index in enumerate(best.tolist()):
        if index in (BLANK, space):
            gap_space = max(gap_space, 1.0 if index == space else float(probs[step, space]))
            previous = index
            continue
        probability = float(probs[step, index])
        if index == previous and chars:  # the same character held over several steps
            char_probs[-1] = max(char_probs[-1], probability)
            char_steps[-1] = (char_steps[-1][0], step)
            continue
        if chars and chars[-1] != " ":
            between = [w for c, w in word_gaps if char_steps[-1][1] + 0.5 <= c <= step + 0.5]
            if gap_space >= space_probability:
                chars.append(" ")
                char_probs.append(min(1.0, gap_space))
                char_steps.append((step, step))
                written += between
            elif (
                between
                and gap_space >= INK_SPACE_PROBABILITY
                and chars[-1].isalpha()
                and charset[index].isalpha()
            ):
                inked.append((len(chars), step, max(between)))  # not by "," in "43,456.78"
        chars.append(charset[index])
        char_probs.append(probability)
        char_steps.append((step, step))
        gap_space = 0.0
        previous = index
    _insert_ink_spaces(chars, char_probs, char_steps, inked, written)
    text = "".join(chars)
    kept = [p for c, p in zip(chars, char_probs, strict=True) if c != " "]
    score = float(np.mean(kept)) if kept else 0.0
    steps = len(best) or 1
    spans = tuple((a / steps, (b + 1) / steps) for a, b in _word_steps(chars, char_steps))
    return RecognizedLine(text, score, _word_logprobs(chars, char_probs), spans)


def _insert_ink_spaces(
    chars: list[str],
    char_probs: list[float],
    char_steps: list[tuple[int, int]],
    inked: list[tuple[int, int, float]],
    written: list[float],
) -> None:
    """Spaces at the ink gaps the path wrote none at, in place. Where the path wrote spaces
    at ink gaps too, a gap must be at least INK_GAP_OF_SPACES of their median width: the
    line's own word spaces say how wide one is (justified text spaces widely, and a gap
    between two letters of a word stays well under that). Where it wrote none, a gap must be
    INK_GAP_ALONE_SHARE of the type wide (a lone word's band has no descenders to measure by:
    "Add ress")."""
    bar = INK_GAP_OF_SPACES * statistics.median(written) if written else INK_GAP_ALONE_SHARE
    for index, step, width in reversed(inked):
        if width >= bar:
            chars.insert(index, " ")
            char_probs.insert(index, 0.0)
            char_steps.insert(index, (step, step))


def _word_steps(chars: list[str], char_steps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each word's first and last timestep (text.split() order)."""
    words: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for char, (first, last) in zip(chars, char_steps, strict=True):
        if char.isspace():
            if current is not None:
                words.append(current)
            current = None
            continue
        current = (first, last) if current is None else (current[0], last)
    if current is not None:
        words.append(current)
    return words


def _word_logprobs(chars: list[str], char_probs: list[float]) -> tuple[float, ...]:
    """Sum of log-probabilities per whitespace-separated word, in order (text.split())."""
    words: list[float] = []
    current: float | None = None
    for char, probability in zip(chars, char_probs, strict=True):
        if char.isspace():
            if current is not None:
                words.append(current)
            current = None
            continue
        current = (current or 0.0) + _log(probability)
    if current is not None:
        words.append(current)
    return tuple(words)


def _in_crop(line: RecognizedLine, crop: np.ndarray, input_shape: Sequence[int]) -> RecognizedLine:
    """The line with its word spans as fractions of the crop, not of the padded input: the
    crop was resized to the input's height and padded on the right (rapidocr's
    `resize_norm_img`), so only `resized / input_width` of the timesteps saw it."""
    input_height, input_width = int(input_shape[-2]), int(input_shape[-1])
    resized = min(input_width, math.ceil(input_height * crop.shape[1] / max(1, crop.shape[0])))
    share = input_width / max(1, resized)
    spans = tuple((min(1.0, a * share), min(1.0, b * share)) for a, b in line.word_spans)
    return RecognizedLine(line.text, line.score, line.word_logprobs, spans)


def _timesteps(
    gaps: list[tuple[float, float]], crop: np.ndarray, steps: int, input_shape: Sequence[int]
) -> list[tuple[float, float]]:
    """Crop-width fractions as timesteps (the inverse of `_in_crop`'s mapping)."""
    input_height, input_width = int(input_shape[-2]), int(input_shape[-1])
    resized = min(input_width, math.ceil(input_height * crop.shape[1] / max(1, crop.shape[0])))
    return [(g * resized / input_width * steps, w) for g, w in gaps]


class Recognizer:
    """Runs line crops through rapidocr's recognition model and decodes them with `decode`.

    rapidocr batches six crops at a time, each padded to the widest of its batch; the padding
    changes what the model reads in a short line (on a letter at 1540 px, "Dear Mr Whitfield,"
    lost both its spaces when batched with the long lines). With `padded_batches` False (the
    default) only crops of the same padded width share a batch, so a line reads the same
    whatever else is on the page, and no time goes into reading padding.

    With `workers`, the batches are read side by side on them (each one onnxruntime run on
    one thread): a line is too small for onnxruntime to split over cores, but a page has
    many lines. Each line's input is the same either way, so the text is too.
    """

    def __init__(
        self,
        text_rec: Any,
        space_probability: float = SPACE_PROBABILITY,
        padded_batches: bool = False,
        *,
        workers: Executor | None = None,
        ink_spaces: bool = True,
    ) -> None:
        self._rec = text_rec
        self.ink_spaces = ink_spaces
        self._charset: list[str] = list(text_rec.postprocess_op.character)
        self.space_probability = space_probability
        self.padded_batches = padded_batches
        self._workers = workers

    def _gaps(
        self, crop: np.ndarray, probs: np.ndarray, input_shape: Sequence[int]
    ) -> list[tuple[float, float]]:
        if not self.ink_spaces:
            return []
        return _timesteps(ink_gaps(crop), crop, probs.shape[0], input_shape)

    def __call__(self, crops: Sequence[np.ndarray]) -> list[RecognizedLine]:
        if not crops:
            return []
        _, height, width = self._rec.rec_image_shape[:3]
        order = np.argsort([crop.shape[1] / max(1, crop.shape[0]) for crop in crops])
        results: list[RecognizedLine | None] = [None] * len(crops)
        batches = [[int(i)] for i in order]
        if self.padded_batches:
            size = int(self._rec.rec_batch_num)
            batches = [[int(i) for i in order[s : s + size]] for s in range(0, len(crops), size)]

        def read(members: list[int]) -> list[RecognizedLine]:
            ratio = max([width / height] + [crops[i].shape[1] / crops[i].shape[0] for i in members])
            inputs = np.concatenate(
                [self._rec.resize_norm_img(crops[i], ratio)[np.newaxis] for i in members]
            ).astype(np.float32)
            outputs = self._rec.session(inputs)[0]
            return [
                _in_crop(
                    decode(
                        probs,
                        self._charset,
                        self.space_probability,
                        self._gaps(crops[i], probs, inputs.shape),
                    ),
                    crops[i],
                    inputs.shape,
                )
                for i, probs in zip(members, outputs, strict=True)
            ]

        # Widest first, so the last line left running while the other workers idle is short.
        batches.reverse()
        read_all = map if self._workers is None else self._workers.map
        for members, lines in zip(batches, read_all(read, batches), strict=True):
            for i, line in zip(members, lines, strict=True):
                results[i] = line
        return [r if r is not None else RecognizedLine("", 0.0, ()) for r in results]
