"""Geometry of a page and its boxes: its ink, how far to reduce it for detection, turning it
and its detection, and how boxes sit beside each other."""

from __future__ import annotations

from typing import Any

from ._layout import TextBox

# Detector quads in page pixels, their upright line crops, and the 0/180 classifier's votes.
Detection = tuple[list[Any], list[Any], list[tuple[str, float]]]

# Detection sees the page reduced until its glyphs are about this tall (median ink blob, in
# pixels), never below half size: the detector finds lines of 11-20 px glyphs at full size
# (the digital PDFs at 2000 px) and of larger type as well at half size, where it costs a
# quarter (the corpus scans' glyphs are 45-57 px tall at 2000 px).
DETECTION_GLYPH_PX = 20
MIN_DETECTION_SCALE = 0.5
# Ink blobs this short are specks, not glyphs; blobs wider than this many heights are rules.
MIN_GLYPH_PX = 4
MAX_GLYPH_ASPECT = 3
_TURNS = {90: 0, 180: 1, 270: 2}  # degrees clockwise -> cv2.rotate's code


def ink(bgr: Any) -> Any:
    """The page's dark pixels (1) against its background (0), Otsu's threshold."""
    import cv2

    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    _, dark = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return dark


def detection_scale(dark: Any) -> float:
    """How much to reduce the page for detection, from how tall its glyphs are.

    Only pages of large type are reduced (see DETECTION_GLYPH_PX); small type, and any page
    whose ink says nothing clear, is detected at full size. Lines are still cut from the
    full-size page for recognition.
    """
    import cv2
    import numpy as np

    _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    glyphs = heights[(heights >= MIN_GLYPH_PX) & (widths <= MAX_GLYPH_ASPECT * heights)]
    if not len(glyphs):
        return 1.0
    return float(min(1.0, max(MIN_DETECTION_SCALE, DETECTION_GLYPH_PX / np.median(glyphs))))


def turn(image: Any, degrees: int) -> Any:
    """The image turned `degrees` clockwise (0, 90, 180 or 270)."""
    import cv2

    return image if not degrees else cv2.rotate(image, _TURNS[degrees])


def half_turn(found: Detection, width: int, height: int) -> Detection:
    """A detection of a page as it would be on the page turned 180 degrees.

    Each quad's corners move to (width - 1 - x, height - 1 - y) and stay in the order
    top-left, top-right, bottom-right, bottom-left; each crop is turned with the page, so it
    holds the pixels a crop of the turned page would.
    """
    import cv2
    import numpy as np

    quads, crops, votes = found
    corner = np.array([width - 1, height - 1], dtype=np.float32)
    turned = [corner - np.asarray(q, dtype=np.float32)[[2, 3, 0, 1]] for q in quads]
    return turned, [cv2.rotate(c, cv2.ROTATE_180) for c in crops], votes


def mostly_inside(piece: TextBox, other: TextBox) -> bool:
    width = min(piece.x1, other.x1) - max(piece.x0, other.x0)
    height = min(piece.y1, other.y1) - max(piece.y0, other.y0)
    area = (piece.x1 - piece.x0) * piece.height
    return width > 0 and height > 0 and width * height >= 0.5 * area


def group_into_words(marks: list[TextBox], gap: float) -> list[TextBox]:
    """Marks that share a row and stand less than `gap` apart, as one box each ("12")."""
    words: list[TextBox] = []
    for mark in sorted(marks, key=lambda m: m.x0):
        for i, word in enumerate(words):
            same_row = min(mark.y1, word.y1) > max(mark.y0, word.y0)
            if same_row and mark.x0 - word.x1 < gap:
                words[i] = TextBox(
                    word.x0, min(word.y0, mark.y0), max(word.x1, mark.x1), max(word.y1, mark.y1), ""
                )
                break
        else:
            words.append(mark)
    return words


def alone_in_its_row(box: TextBox, confident: list[TextBox]) -> bool:
    """No confidently read box shares any of this box's height.

    Only such a box is read again: a page number or a running head has its row to itself,
    while a doubtful box beside read lines is a gutter's stray mark or a line's hyphen, and
    kept it would close the column gutter the layout reads by (multicolumn.pdf's reading-order
    CER went from 0.001 to 0.528 when every doubtful box was read again and kept).
    """
    return not any(min(box.y1, o.y1) > max(box.y0, o.y0) for o in confident)


__all__ = [
    "MIN_DETECTION_SCALE",
    "Detection",
    "alone_in_its_row",
    "detection_scale",
    "group_into_words",
    "half_turn",
    "ink",
    "mostly_inside",
    "turn",
]
