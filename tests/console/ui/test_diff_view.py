"""The diff and doubtful words as HTML: highlighted, and never a way in for markup."""

from __future__ import annotations

from console.ui._diff_view import diff_html, doubtful_html
from ocr_core import ConfidenceSpan
from ocr_core.quality import DiffSpan, word_diff


def test_insertions_deletions_and_substitutions_are_marked_apart() -> None:
    html = diff_html(word_diff("the quick brown cat jumps high", "the quick red cat jumps"))
    assert html == "<p>the quick <s>red</s> <b>brown</b> cat jumps <u>high</u></p>"
    assert "<del>over</del>" in diff_html(word_diff("jumps the fox", "jumps over the fox"))


def test_markup_in_either_text_is_shown_as_text() -> None:
    html = diff_html(
        [
            DiffSpan("replace", ("<script>alert(1)</script>",), ('<img src=x onerror="go()">',)),
            DiffSpan("equal", ("a&b",), ("a&b",)),
        ]
    )
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    assert "a&amp;b" in html


def test_doubtful_words_are_underlined_in_the_rendered_text() -> None:
    text = "Pay **1O0** EUR to Bob"
    html = doubtful_html(
        text, (ConfidenceSpan(6, 9, "1O0", 0.2), ConfidenceSpan(19, 22, "Bob", 0.4))
    )
    assert "<strong><u>1O0</u></strong>" in html and "<u>Bob</u>" in html


def test_doubtful_words_cannot_smuggle_markup_or_fake_marks() -> None:
    text = "a <script>x()</script> \ue000b\ue001 <u>c</u>"
    start = text.index("<script>")
    html = doubtful_html(text, (ConfidenceSpan(start, start + 8, "<script>", 0.1),))
    assert "<script" not in html and "x()" not in html
    assert "\ue000" not in html and "\ue001" not in html


def test_a_span_that_does_not_match_the_text_is_left_out() -> None:
    html = doubtful_html("exact words", (ConfidenceSpan(0, 5, "other", 0.1),))
    assert "<u>" not in html and "exact words" in html
