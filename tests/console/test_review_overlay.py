"""The page-to-correct overlay: each located word carries where it sits in the editor's
text, doubtful ones are marked, and a word is only ever escaped text; the editor's keys
are listened for on the page's document. (What they do: tests/e2e/test_review.py.)"""

from __future__ import annotations

import re

from console._review_overlay import EDITOR_LABEL, review_keys_html, review_overlay_html
from ocr_core import LocatedWord, PageWords

JPEG = b"\xff\xd8\xff\xd9"


def _words(*texts: str) -> PageWords:
    boxes = [(10.0 * i, 0.0, 10.0 * i + 8, 10.0) for i in range(len(texts))]
    located = tuple(LocatedWord(t, box, 0, 0) for t, box in zip(texts, boxes, strict=True))
    return PageWords(100, 20, located, ())


def test_each_word_knows_where_it_starts_in_the_editor_s_text() -> None:
    page = review_overlay_html(JPEG, _words("the", "cat", "the"), "the cat the")
    assert re.findall(r'data-at="(-?\d+)"', page) == ["0", "4", "8"]


def test_doubtful_words_are_marked() -> None:
    page = review_overlay_html(JPEG, _words("teh", "cat"), "teh cat", doubtful=[0])
    assert page.count('class="w doubtful"') == 1
    assert "1 doubtful" in page


def test_a_word_that_is_markup_is_escaped_text() -> None:
    page = review_overlay_html(JPEG, _words("<script>x</script>"), "<script>x</script>")
    assert "<title>&lt;script&gt;x&lt;/script&gt;</title>" in page
    assert page.count("<script>") == 1  # the overlay's own


def test_the_script_looks_for_the_editor_by_its_label() -> None:
    assert f'const LABEL = "{EDITOR_LABEL}"' in review_overlay_html(JPEG, _words("a"), "a")


def test_the_keys_are_heard_on_the_page_s_document_by_one_listener_at_a_time() -> None:
    """Not on the editor element, which a redraw may replace; a redrawn frame's listener
    replaces the one before it, so a key never presses a button twice."""
    script = review_keys_html()
    assert f'const LABEL = "{EDITOR_LABEL}"' in script
    assert "const doc = window.parent.document;" in script
    assert "doc.removeEventListener('keydown', doc.reviewKeys, true);" in script
    assert "doc.addEventListener('keydown', onKey, true);" in script
