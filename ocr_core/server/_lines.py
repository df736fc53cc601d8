"""The engine's lines with where each of their words sits: what `ocr_core.locate_words`
aligns a service's words to.

The recogniser reads lines, not words, but its CTC timesteps say where each character
was seen across the crop (`RecognizedLine.word_spans`); for an upright line the crop's
width is the box's, so a word's span maps straight onto the page.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    quads, crops, _ = engine._detect(bgr, detection_scale(ink(bgr)), classify=False)
    found = [line for line in read_lines_of(engine, quads, crops) if line is not None]
    spans = {id(box): line_spans for box, line_spans in found}
    ordered = reading_order([box for box, _ in found])
    return [(box, spans[id(box)]) for line in ordered for box in line.boxes]


def read_lines_of(
    engine: RapidOcrEngine, quads: Sequence[Any], crops: Sequence[Any]
) -> list[tuple[TextBox, tuple[Span, ...]] | None]:
    """These detected lines read, one for each, with their words' x spans; None for a line
    read as nothing, or under the engine's score bar."""
    found: list[tuple[TextBox, tuple[Span, ...]] | None] = []
    for quad, line in zip(quads, engine._recognize(list(crops)), strict=True):
        if not line.text.strip() or line.score < engine._ocr.text_score:
            found.append(None)
            continue
        box = TextBox.from_quad(quad, line.text)
        spans = tuple((box.x0 + a * box.width, box.x0 + b * box.width) for a, b in line.word_spans)
        found.append((box, spans))
    return found
