"""Character error rate: how far OCR output is from the ground truth, per reference character.

Whitespace is normalised first (runs of spaces and line breaks count as one space), because
line wrapping and paragraph breaks differ between engines without changing what was read.
"""

from __future__ import annotations


def normalise(text: str) -> str:
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), two rows of memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (char_a != char_b),
                )
            )
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Edit distance / reference length, both whitespace-normalised (jiwer's argument order).

    0.0 is a perfect read; an empty reference gives 0.0 for an empty hypothesis, else 1.0.
    """
    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return levenshtein(reference, hypothesis) / len(reference)


__all__ = ["cer", "levenshtein", "normalise"]
