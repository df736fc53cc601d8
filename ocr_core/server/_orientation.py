"""Which way up a page is, from what the detector and the line classifier already saw.

A page scanned sideways shows its lines as tall narrow boxes; one scanned upside down shows
ordinary boxes whose crops rapidocr's 0/180 classifier calls "180". rapidocr flips each
such crop on its own, which reads the words but leaves the page's layout mirrored (the
last line first, columns swapped), so the engine turns the whole page instead and detects
again. Votes are weighted by line length: a long line says more than a page number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A detected box at least this much taller than wide is a line of sideways text.
SIDEWAYS_ASPECT = 1.5
# Share of the text (by line length) that must agree before the page is turned.
TURN_SHARE = 0.6
# Below this classifier score a crop's "180" vote does not count.
MIN_CLASSIFIER_SCORE = 0.6


def _side_lengths(quad: np.ndarray) -> tuple[float, float]:
    """Width and height of a detector quad (top-left, top-right, bottom-right, bottom-left)."""
    points = np.asarray(quad, dtype=np.float64)
    width = max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3]))
    height = max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2]))
    return float(width), float(height)


def is_sideways(quads: Sequence[np.ndarray]) -> bool:
    """True when most of the detected text runs top to bottom: the page is turned 90 degrees."""
    sides = [_side_lengths(q) for q in quads]
    total = sum(max(w, h) for w, h in sides)
    if not total:
        return False
    tall = sum(h for w, h in sides if h >= SIDEWAYS_ASPECT * w)
    return tall / total >= TURN_SHARE


def is_upside_down(classified: Sequence[tuple[str, float]], crops: Sequence[np.ndarray]) -> bool:
    """True when the classifier calls most of the text (weighted by crop width) upside down."""
    total = 0.0
    flipped = 0.0
    for (label, score), crop in zip(classified, crops, strict=True):
        width = float(crop.shape[1])
        total += width
        if "180" in str(label) and float(score) >= MIN_CLASSIFIER_SCORE:
            flipped += width
    return bool(total) and flipped / total >= TURN_SHARE
