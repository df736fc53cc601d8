"""Line recognition that keeps word spaces and reports how sure it is of every word.

PaddleOCR's PP-OCRv4 recogniser (the model rapidocr ships) was trained mostly on Chinese,
where lines have no spaces: on Latin text its greedy CTC path often skips the space
between two words ("Thisisasampledocument") even though the space class keeps a clear
share of the probability in the gap (0.15-0.5 where a word break is on multicolumn.pdf,
under 0.02 inside words). Decoding the same output with a lower bar for the space class puts
the spaces back without a second model.

The probabilities of the characters kept on the path also give each word a log-probability,
which the server reports as vLLM-style token logprobs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

# A gap between two characters whose best space probability reaches this is a word break.
# Word F1 at 1540 px (minimal-document.pdf, turned letter): 0.08 -> 0.935/0.972,
# 0.04 -> 0.965, 0.02 -> 0.980/1.000 (lower bars not tried: they may split words).
SPACE_PROBABILITY = 0.02
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


def decode(
    probs: np.ndarray, charset: Sequence[str], space_probability: float = SPACE_PROBABILITY
) -> RecognizedLine:
    """Greedy CTC decoding of one line's (timesteps, classes) probabilities, spaces restored.

    Between two characters, a space is written when the path itself holds one or when the
    space class reached `space_probability` anywhere in the gap. A word's log-probability
    is the sum of its characters' (each the best probability over its run of timesteps).
    """
    space = len(charset) - 1  # rapidocr appends " " as the last class
    best = probs.argmax(axis=1)
    chars: list[str] = []
    char_probs: list[float] = []
    char_steps: list[tuple[int, int]] = []  # each character's first and last timestep
    gap_space = 0.0  # best space probability since the last character
    previous = BLANK
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
        if chars and chars[-1] != " " and gap_space >= space_probability:
            chars.append(" ")
            char_probs.append(min(1.0, gap_space))
            char_steps.append((step, step))
        chars.append(charset[index])
        char_probs.append(probability)
        char_steps.append((step, step))
        gap_space = 0.0
        previous = index
    text = "".join(chars)
    kept = [p for c, p in zip(chars, char_probs, strict=True) if c != " "]
    score = float(np.mean(kept)) if kept else 0.0
    steps = len(best) or 1
    spans = tuple((a / steps, (b + 1) / steps) for a, b in _word_steps(chars, char_steps))
    return RecognizedLine(text, score, _word_logprobs(chars, char_probs), spans)


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
    ) -> None:
        self._rec = text_rec
        self._charset: list[str] = list(text_rec.postprocess_op.character)
        self.space_probability = space_probability
        self.padded_batches = padded_batches
        self._workers = workers

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
                    decode(probs, self._charset, self.space_probability), crops[i], inputs.shape
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
