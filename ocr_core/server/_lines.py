"""The engine's lines with where each of their words sits: what `ocr_core.locate_words`
aligns a service's words to.

The recogniser reads lines, not words, but its CTC timesteps say where each character
was seen across the crop (`RecognizedLine.word_spans`); for an upright line the crop's
width is the box's, so a word's span maps straight onto the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._layout import TextBox, reading_order
from ._page_geometry import detection_scale, ink

if TYPE_CHECKING:
    from ._engine import RapidOcrEngine

Span = tuple[float, float]  # x0, x1 on the page


def read_lines(engine: RapidOcrEngine, bgr: Any) -> list[tuple[TextBox, tuple[Span, ...]]]:
    """The page's lines in reading order, each with its words' x spans on the page
    (one per word of its text, text.split() order). The page is taken as it stands: no
    turning, no small-text passes (a located word needs the ink it is on, not a re-read)."""
    scale = detection_scale(ink(bgr))
    quads, crops, _ = engine._detect(bgr, scale)
    recognised = engine._recognize(crops)
    spans: dict[int, tuple[Span, ...]] = {}
    boxes: list[TextBox] = []
    for quad, line in zip(quads, recognised, strict=True):
        if not line.text.strip() or line.score < engine._ocr.text_score:
            continue
        box = TextBox.from_quad(quad, line.text)
        boxes.append(box)
        spans[id(box)] = tuple(
            (box.x0 + a * box.width, box.x0 + b * box.width) for a, b in line.word_spans
        )
    return [(box, spans.get(id(box), ())) for line in reading_order(boxes) for box in line.boxes]
