"""Word F1, reading-order CER and lost lines: what a QA reviewer notices in OCR text.

- Word F1 compares the words as bags (order ignored): words run together ("thehouse") or
  dropped lower it even when almost every character is right, which CER hides.
- Reading-order CER is the character error rate of the whole page after the one
  normalisation every score uses (`ocr_core.quality.normalise`): a page read in the wrong
  order (column 2 before column 1, labels before values) pays for every character moved.
- A lost line is a line of the ground truth of which fewer than half the words came back.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ocr_core.quality import normalise

# Punctuation at either end of a word is not part of it for the bag of words.
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
LOST_LINE_RECALL = 0.5


def words(text: str) -> list[str]:
    """Whitespace-separated words, stripped of leading and trailing punctuation."""
    stripped = (_EDGE_PUNCTUATION.sub("", w) for w in text.split())
    return [w for w in stripped if w]


@dataclass(frozen=True, slots=True)
class Score:
    """One page's OCR text against its ground truth."""

    precision: float
    recall: float
    f1: float
    cer: float
    lost_lines: int
    lines: int


def score(truth: str, text: str) -> Score:
    reference, hypothesis = Counter(words(truth)), Counter(words(text))
    matched = sum((reference & hypothesis).values())
    precision = matched / max(1, sum(hypothesis.values()))
    recall = matched / max(1, sum(reference.values()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ref_text, hyp_text = normalise(truth), normalise(text)
    cer = (
        Levenshtein.distance(ref_text, hyp_text) / len(ref_text)
        if ref_text
        else float(bool(hyp_text))
    )
    truth_lines = [Counter(words(line)) for line in truth.splitlines() if words(line)]
    lost = sum(
        1
        for line in truth_lines
        if sum((line & hypothesis).values()) < LOST_LINE_RECALL * sum(line.values())
    )
    return Score(precision, recall, f1, cer, lost, len(truth_lines))
