"""Words located on a digital PDF's rendered page, judged by the PDF's own character boxes."""

from __future__ import annotations

import pytest

from ocr_core import PageWords, locate_words
from ocr_core._locate import DetectedLine, LocatedWord, place_words, text_lines
from ocr_core.bench.locate import CORPUS, overlap_share, service_text, true_page

pytestmark = pytest.mark.skipif(not (CORPUS / "minimal-document.pdf").exists(), reason="corpus")


def test_markdown_structure_is_stripped_not_located() -> None:
    lines = text_lines("# Title\n\n| a | **b** |\n|---|---|\n- item one\n")
    assert lines == [(0, ["Title"]), (1, ["a", "b"]), (1, ["item", "one"])]


def test_layout_html_is_stripped_but_a_word_in_angle_brackets_is_a_word() -> None:
    lines = text_lines(
        "Over the <lazy> dog\n<table><tr><td>a</td><td colspan=2>b</td></tr></table>"
    )
    assert lines == [(0, ["Over", "the", "<lazy>", "dog"]), (0, ["a", "b"])]


def test_a_word_the_page_lacks_has_no_box() -> None:
    words = place_words("hello zebra", [DetectedLine((0, 0, 100, 10), "hello")])
    assert [w.box is not None for w in words] == [True, False]


def test_a_misread_word_is_placed_on_the_word_it_stands_for() -> None:
    lines = [
        DetectedLine(
            (0, 0, 300, 10), "the amount due", ((0, 0, 40, 10), (50, 0, 150, 10), (160, 0, 300, 10))
        )
    ]
    words = place_words("the arnount due", lines)
    assert words[1].box == (50, 0, 150, 10)


def test_a_block_going_on_in_the_next_column_is_boxed_per_column() -> None:
    page = PageWords(
        200,
        100,
        (
            LocatedWord("end", (10, 80, 40, 90), 0, 0),
            LocatedWord("of", (110, 10, 130, 20), 0, 0),
            LocatedWord("it", (140, 10, 150, 20), 0, 0),
        ),
        (),
    )
    assert page.blocks() == [(0, (10, 80, 40, 90)), (0, (110, 10, 150, 20))]


def test_words_scaled_to_the_scans_own_size_keep_their_place_on_the_page() -> None:
    page = PageWords(2000, 1000, (LocatedWord("a", (200, 100, 400, 150), 0, 0),), ())
    assert page.scaled(1000, 500).words[0].box == (100, 50, 200, 75)


def test_page_words_survive_their_json() -> None:
    page = PageWords(
        800,
        600,
        (LocatedWord("a<b", (1.25, 2.0, 3.0, 4.0), 0, 0), LocatedWord("x", None, 1, 1)),
        (),
    )
    again = PageWords.from_json(page.to_json())
    assert again.words == (
        LocatedWord("a<b", (1.2, 2.0, 3.0, 4.0), 0, 0),
        LocatedWord("x", None, 1, 1),
    )


def test_blocks_are_boxed_around_their_located_words_in_the_texts_order() -> None:
    page = PageWords(
        100,
        100,
        (
            LocatedWord("a", (60, 10, 70, 20), 0, 0),
            LocatedWord("b", (10, 50, 20, 60), 1, 1),
            LocatedWord("c", (30, 55, 40, 65), 1, 1),
        ),
        (),
    )
    assert page.blocks() == [(0, (60, 10, 70, 20)), (1, (10, 50, 40, 65))]


def test_true_text_words_overlap_their_true_boxes() -> None:
    truth = true_page(CORPUS / "minimal-document.pdf", 0)
    located = locate_words(truth.image, truth.text)
    hits, boxed = overlap_share(located, truth)
    assert boxed >= 0.95 * len(located.words)
    assert hits >= 0.95 * boxed  # 99.8 % over 8 corpus pages (python -m ocr_core.bench.locate)


def test_a_services_markdown_text_with_misreads_is_located_too() -> None:
    truth = true_page(CORPUS / "minimal-document.pdf", 0)
    located = locate_words(truth.image, service_text(truth.text, seed=1, misread=0.1))
    hits, boxed = overlap_share(located, truth)
    assert boxed >= 0.9 * len(located.words)
    assert hits >= 0.95 * boxed
