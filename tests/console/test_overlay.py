"""The overlay of located words: which words are marked, and untrusted words kept as text."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from PIL import Image

from console._overlay import (
    CHROME_PX,
    VIEW_MAX_PX,
    Marks,
    differing_word_indices,
    doubtful_word_indices,
    overlay_height,
    overlay_html,
    word_offsets,
)
from ocr_core import ConfidenceSpan, LocatedWord, PageWords
from ocr_core.quality import word_diff


def _page(*words: tuple[str, int]) -> PageWords:
    """Words on one row, 50 px apart, each in block `block`."""
    return PageWords(
        400,
        100,
        tuple(
            LocatedWord(text, (10 + 50 * i, 10, 50 + 50 * i, 30), 0, block)
            for i, (text, block) in enumerate(words)
        ),
        (),
    )


class _Elements(HTMLParser):
    """Every element as (tag, attributes, the text right inside it), as a browser parses it."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], str]] = []
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), ""))

    def handle_data(self, data: str) -> None:
        if self.elements:
            tag, attrs, text = self.elements[-1]
            self.elements[-1] = (tag, attrs, text + data)

    def having(self, tag: str, **wanted: str) -> list[tuple[dict[str, str | None], str]]:
        return [
            (attrs, text)
            for name, attrs, text in self.elements
            if name == tag and all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items())
        ]


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 50), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_each_word_is_found_in_the_text_after_the_one_before() -> None:
    words = _page(("Total", 0), ("due", 0), ("due", 0))
    assert word_offsets("# Total **due** and due", words) == [2, 10, 20]


def test_a_low_confidence_span_marks_the_words_it_falls_on() -> None:
    text = "Amount due 1,250.00 EUR"
    words = _page(("Amount", 0), ("due", 0), ("1,250.00", 0), ("EUR", 0))
    spans = [ConfidenceSpan(11, 19, "1,250.00", 0.41)]
    assert doubtful_word_indices(text, spans, words) == {2}


def test_words_the_reference_does_not_have_are_marked() -> None:
    words = _page(("the", 0), ("amount", 0), ("dve", 0), ("today", 0))
    diff = word_diff("the amount dve today", "the amount due today")
    assert differing_word_indices(diff, words) == {2}


def test_a_hostile_word_stays_text_in_the_overlay() -> None:
    words = _page(("<script>alert(1)</script>", 0), ('"><img src=x onerror=alert(2)>', 0))
    document = _Elements(overlay_html(_jpeg(), words))
    scripts = document.having("script")
    assert len(scripts) == 1 and "alert" not in scripts[0][1]
    assert not document.having("img")
    spans = [text.strip() for attrs, text in document.having("span") if "data-i" in attrs]
    assert spans == ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>']


def test_blocks_are_numbered_in_the_order_the_text_reads_them() -> None:
    first, second = (200, 10, 240, 30), (10, 10, 50, 30)  # the text reads right, then left
    words = PageWords(400, 100, (LocatedWord("a", first, 0, 0), LocatedWord("b", second, 0, 1)), ())
    numbers = _Elements(overlay_html(_jpeg(), words)).having("text", **{"class": "n"})
    assert [(text, float(attrs["x"] or 0)) for attrs, text in numbers] == [("1", 197.0), ("2", 7.0)]


def test_marked_words_carry_their_kind_on_the_scan_and_in_the_text() -> None:
    words = _page(("a", 0), ("b", 0), ("c", 0))
    marks = Marks(doubtful=frozenset({0, 2}), differs=frozenset({2}))
    document = _Elements(overlay_html(_jpeg(), words, marks))
    kinds = [attrs["class"] for attrs, _ in document.having("rect") if "data-i" in attrs]
    assert kinds == ["w doubtful", "w plain", "w doubtful differs"]


def test_a_tall_page_scrolls_in_a_box_of_bounded_height_with_zoom_controls() -> None:
    tall = PageWords(1000, 20_000, (LocatedWord("word", (10, 10, 60, 30), 0, 0),), ())
    assert overlay_height(tall) == VIEW_MAX_PX + CHROME_PX
    elements = _Elements(overlay_html(_jpeg(), tall)).elements
    ids = {attrs.get("id") for _tag, attrs, _text in elements}
    assert {"view", "zoom-in", "zoom-out", "zoom-fit", "find"} <= ids
