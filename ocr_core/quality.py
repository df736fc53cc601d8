"""How good is a page's text: error rates against ground truth, a word diff, runaway output.

One normalisation is applied everywhere a score is computed (the workbench, golden sets, the
bench), so a number means the same thing on every screen:

1. Unicode NFC, so "é" typed and "é" composed compare equal;
2. Markdown markup removed: the model writes headings (`#`), emphasis (`*`, `_`), table pipes
   and rules, list bullets and HTML tags, none of which is on the paper;
3. every run of whitespace (spaces, tabs, line breaks) becomes one space, because line
   wrapping and paragraph breaks differ between readers without changing what was read;
4. optionally, case folded (`ignore_case=True`).

Edit distances come from rapidfuzz (a maintained C++ implementation), over characters for
CER and over words for WER, divided by the reference's length. An empty reference is an
error (`ValueError`), not a score: a rate against nothing means nothing.

CER counts reading order: a page whose columns were read in another order scores badly
though every word is right. The order-free measures say how much of it is order: word
precision and recall (the words as a bag: how many read words are on the page, how many of
the page's words were read) and an order-free CER (the CER of both texts' words sorted, so
any order of the same words scores 0). `TextScore.mostly_reading_order` says when the CER
is mostly order (issue 35, item 5).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Literal, cast

from rapidfuzz.distance import Levenshtein

_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def normalise(text: str, *, ignore_case: bool = False, markdown: bool = True) -> str:
    """The text as scores see it (see the module docstring for the steps)."""
    text = unicodedata.normalize("NFC", text)
    if markdown:
        text = _strip_markdown(text)
    text = " ".join(text.split())
    return text.casefold() if ignore_case else text


def _strip_markdown(text: str) -> str:
    text = _TABLE_RULE.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return text.replace("|", " ")


def cer(hypothesis: str, reference: str, *, ignore_case: bool = False) -> float:
    """Character error rate: character edits to turn the reference into the hypothesis,
    per reference character. 0.0 is a perfect read; it can pass 1.0 (a hypothesis with
    extra text)."""
    hyp = normalise(hypothesis, ignore_case=ignore_case)
    ref = _reference(reference, ignore_case)
    return Levenshtein.distance(ref, hyp) / len(ref)


def wer(hypothesis: str, reference: str, *, ignore_case: bool = False) -> float:
    """Word error rate: word edits per reference word, on the same normalisation as CER."""
    hyp = normalise(hypothesis, ignore_case=ignore_case).split()
    ref = _reference(reference, ignore_case).split()
    return Levenshtein.distance(ref, hyp) / len(ref)


def order_free_cer(hypothesis: str, reference: str, *, ignore_case: bool = False) -> float:
    """CER with the words of both texts in one (sorted) order: misread, missing and extra
    words count, their order does not."""
    hyp = " ".join(sorted(normalise(hypothesis, ignore_case=ignore_case).split()))
    ref = " ".join(sorted(_reference(reference, ignore_case).split()))
    return Levenshtein.distance(ref, hyp) / len(ref)


def word_precision_recall(
    hypothesis: str, reference: str, *, ignore_case: bool = False
) -> tuple[float, float]:
    """(precision, recall) of the words as bags, whatever their order: the share of the read
    words that are on the page, and of the page's words that were read (each word counted as
    often as it occurs). Nothing read is a precision of 0."""
    hyp = Counter(normalise(hypothesis, ignore_case=ignore_case).split())
    ref = Counter(_reference(reference, ignore_case).split())
    common = (hyp & ref).total()
    return (common / hyp.total() if hyp else 0.0), common / ref.total()


# "Mostly reading order": the CER is worth noticing and at least half of it goes away when
# order does not count.
ORDER_MIN_CER = 0.05
ORDER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class TextScore:
    """A text against its reference, in order (CER, WER) and order-free."""

    cer: float
    wer: float
    order_free_cer: float
    word_precision: float
    word_recall: float

    @property
    def mostly_reading_order(self) -> bool:
        """The words are mostly right and the CER is mostly their order."""
        return self.cer >= ORDER_MIN_CER and self.order_free_cer <= self.cer * ORDER_SHARE


def score(hypothesis: str, reference: str, *, ignore_case: bool = False) -> TextScore:
    """Every measure of `hypothesis` against `reference` (ValueError if it is empty)."""
    precision, recall = word_precision_recall(hypothesis, reference, ignore_case=ignore_case)
    return TextScore(
        cer=cer(hypothesis, reference, ignore_case=ignore_case),
        wer=wer(hypothesis, reference, ignore_case=ignore_case),
        order_free_cer=order_free_cer(hypothesis, reference, ignore_case=ignore_case),
        word_precision=precision,
        word_recall=recall,
    )


def _reference(reference: str, ignore_case: bool) -> str:
    ref = normalise(reference, ignore_case=ignore_case)
    if not ref:
        raise ValueError("the reference text is empty: there is nothing to score against")
    return ref


DiffTag = Literal["equal", "insert", "delete", "replace"]


@dataclass(frozen=True, slots=True)
class DiffSpan:
    """A run of words: `equal`, or what the reference had and the hypothesis changed.

    `insert`: words only the hypothesis has; `delete`: words it lost; `replace`: both.
    """

    tag: DiffTag
    reference: tuple[str, ...]
    hypothesis: tuple[str, ...]


def word_diff(hypothesis: str, reference: str, *, ignore_case: bool = False) -> list[DiffSpan]:
    """The minimal word-level edit script from reference to hypothesis, as spans in order."""
    ref = normalise(reference, ignore_case=ignore_case).split()
    hyp = normalise(hypothesis, ignore_case=ignore_case).split()
    return [
        DiffSpan(
            tag=cast(DiffTag, op.tag),
            reference=tuple(ref[op.src_start : op.src_end]),
            hypothesis=tuple(hyp[op.dest_start : op.dest_end]),
        )
        for op in Levenshtein.opcodes(ref, hyp)
    ]


# A model caught in a loop repeats one line or phrase until max_tokens. The tail test looks
# for the same word n-gram repeated back to back at the end; the compression test catches
# loops with small variations (counters, alternating lines) that a strict period misses.
# Real pages stay far from both: a dense table of contents compresses about 4:1.
_MIN_REPEATS = 8
_MIN_REPEATED_WORDS = 40
_MAX_PERIOD_WORDS = 40
_MIN_COMPRESSIBLE_CHARS = 2000
_MAX_COMPRESSION_RATIO = 10.0


def looks_repetitive(text: str) -> bool:
    """True when the text reads like a generation loop, not a page."""
    words = text.split()
    if _repeated_tail_words(words) >= _MIN_REPEATED_WORDS:
        return True
    data = text.encode("utf-8")
    if len(data) < _MIN_COMPRESSIBLE_CHARS:
        return False
    return len(data) / len(zlib.compress(data, 9)) > _MAX_COMPRESSION_RATIO


def _repeated_tail_words(words: list[str]) -> int:
    """How many words at the end are one n-gram repeated back to back (0 if under 8 times)."""
    best = 0
    for period in range(1, min(_MAX_PERIOD_WORDS, len(words) // _MIN_REPEATS) + 1):
        unit = words[-period:]
        repeats = 1
        while (start := len(words) - (repeats + 1) * period) >= 0 and (
            words[start : start + period] == unit
        ):
            repeats += 1
        if repeats >= _MIN_REPEATS:
            best = max(best, repeats * period)
    return best


def rerun_reason(text: str) -> str | None:
    """Why a page's answer deserves a second try with other sampling, or None."""
    if not text.strip():
        return "empty"
    if looks_repetitive(text):
        return "repetition"
    return None


__all__ = [
    "DiffSpan",
    "TextScore",
    "cer",
    "looks_repetitive",
    "normalise",
    "order_free_cer",
    "rerun_reason",
    "score",
    "wer",
    "word_diff",
    "word_precision_recall",
]
