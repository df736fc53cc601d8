"""Cutting a line into word boxes on its ink: synthetic ink with known words."""

from __future__ import annotations

import numpy as np

from ocr_core._word_boxes import cut_at_ink


def page_with_words(columns: list[tuple[int, int]], rows: tuple[int, int] = (10, 20)) -> np.ndarray:
    """A 40 x 200 ink mask with a block of ink per word (x ranges), on `rows`."""
    dark = np.zeros((40, 200), dtype=np.uint8)
    for x0, x1 in columns:
        dark[rows[0] : rows[1], x0:x1] = 1
    return dark


def test_words_are_cut_at_the_blank_columns_between_the_recognisers_spans() -> None:
    # Proportions alone would put "iiii"/"mmmmmmmm" at 4/13 of the line; the ink says 30.
    dark = page_with_words([(0, 30), (40, 160), (170, 200)])
    boxes = cut_at_ink(dark, (0, 5, 200, 25), "iiii mmmmmmmm w", [(2, 25), (45, 150), (172, 198)])
    assert [(b[0], b[2]) for b in boxes] == [(0, 30), (40, 160), (170, 200)]


def test_without_spans_the_cut_falls_in_the_gap_nearest_the_characters_share() -> None:
    dark = page_with_words([(0, 95), (105, 200)])
    boxes = cut_at_ink(dark, (0, 5, 200, 25), "abcde fghij")
    assert [(b[0], b[2]) for b in boxes] == [(0, 95), (105, 200)]


def test_ink_of_the_lines_above_and_below_in_the_box_does_not_stretch_the_words() -> None:
    dark = page_with_words([(0, 90), (110, 200)], rows=(14, 26))
    dark[0:4, :] = 1  # descenders of the line above, inside the detected box
    dark[37:40, :] = 1  # ascenders of the line below
    boxes = cut_at_ink(dark, (0, 0, 200, 40), "left right", [(5, 80), (120, 190)])
    assert [(b[1], b[3]) for b in boxes] == [(14, 26), (14, 26)]


def test_a_word_without_ascenders_spans_its_lines_type() -> None:
    dark = page_with_words([(0, 40), (60, 100), (120, 200)], rows=(10, 30))
    dark[10:18, 60:100] = 0  # "ace": x-height only
    boxes = cut_at_ink(dark, (0, 5, 200, 35), "Tall ace Tall", [(0, 40), (60, 100), (120, 200)])
    assert boxes[1][1] == 10 and boxes[1][3] == 30
