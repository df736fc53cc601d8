"""Scanned pages are rarely square to the scanner: straighten them before reading order.

At 1.5 degrees a column's bottom lines sit 40 px to the side of its top lines on a 1754 px
page, which closes the gutters an XY-cut reads columns by: a magazine page then reads row
by row across its columns (reading-order CER 0.59, with every word right). The detector's
line quads show the skew: the median slope of the long lines' top edges. For a page skewed
by more than `MIN_SKEW_DEGREES`, the reading order is found on the boxes turned back by it
(`deskewed`); the page itself is not turned: resampling it again blurs small type (the
dense page lost a word space in ten when it was), and its lines are already cut along
their own slope.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from ._layout import TextBox

# Below this a gutter of ~30 px stays open on a page (0.3 degrees: 9 px over 1754 px).
MIN_SKEW_DEGREES = 0.3
# Scanner skew, not a page turned on purpose (the orientation step handles quarter turns).
MAX_SKEW_DEGREES = 10.0
# Lines this many times as long as they are tall show their slope; shorter boxes do not.
MIN_LINE_ASPECT = 4.0
MIN_LINES = 5


def skew_degrees(quads: Sequence[Any]) -> float:
    """The page's skew (degrees, counter-clockwise positive in image coordinates, the angle
    to turn it back by with `straightened`), or 0.0 when it is square or cannot be told."""
    slopes = []
    for quad in quads:
        (x0, y0), (x1, y1), _, (x3, y3) = ((float(p[0]), float(p[1])) for p in quad)
        width, height = math.hypot(x1 - x0, y1 - y0), math.hypot(x3 - x0, y3 - y0)
        if width >= MIN_LINE_ASPECT * max(height, 1.0):
            slopes.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    if len(slopes) < MIN_LINES:
        return 0.0
    skew = statistics.median(slopes)
    return skew if MIN_SKEW_DEGREES <= abs(skew) <= MAX_SKEW_DEGREES else 0.0


def deskewed(boxes: Sequence[TextBox], degrees: float, size: Sequence[int]) -> list[TextBox]:
    """The boxes as they sit on the page turned back by `degrees` (a `skew_degrees`) about
    its centre (`size`: height, width first, as an image's shape). Each keeps its width;
    its height loses what the slope added to it (the detector's box is upright around a
    sloping line), so lines stay apart and gutters open."""
    height, width = size[0], size[1]
    cx, cy = width / 2, height / 2
    turn = math.radians(-degrees)
    cos, sin = math.cos(turn), math.sin(turn)
    straight = []
    for box in boxes:
        dx, dy = (box.x0 + box.x1) / 2 - cx, (box.y0 + box.y1) / 2 - cy
        x, y = cx + dx * cos - dy * sin, cy + dx * sin + dy * cos
        half_w = box.width / 2
        half_h = max(box.height - box.width * abs(sin), box.height / 2) / 2
        straight.append(
            TextBox(x - half_w, y - half_h, x + half_w, y + half_h, box.text, box.word_logprobs)
        )
    return straight
