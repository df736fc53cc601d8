"""Reading order and paragraphs from line boxes: pure geometry, synthetic pages."""

from __future__ import annotations

import random

import numpy as np

from ocr_core.server._gutters import Gutter, find_gutters, trim_to_gutters
from ocr_core.server._layout import TextBox, paragraphs, reading_order, render, to_markdown

LINE = 20  # line height in px
PITCH = 26  # baseline to baseline


def line(x0: float, row: int, x1: float, text: str, top: float = 100) -> TextBox:
    y0 = top + row * PITCH
    return TextBox(x0, y0, x1, y0 + LINE, text)


def texts(boxes: list[TextBox]) -> list[str]:
    return [ln.text for ln in reading_order(boxes)]


def two_columns(rows: int, rows_right: int | None = None) -> list[TextBox]:
    """Left column x 50-400, right column x 410-760: a gutter of half a line height."""
    boxes = [line(50, r, 400, f"L{r}") for r in range(rows)]
    boxes += [line(410, r, 760, f"R{r}") for r in range(rows if rows_right is None else rows_right)]
    return boxes


def test_lines_of_one_column_come_top_to_bottom_whatever_the_detection_order() -> None:
    boxes = [line(50, r, 700, f"line {r}") for r in range(8)]
    random.Random(7).shuffle(boxes)
    assert texts(boxes) == [f"line {r}" for r in range(8)]


def test_two_columns_are_read_one_after_the_other_not_interleaved() -> None:
    boxes = two_columns(6)
    boxes.sort(key=lambda b: (b.y0, b.x0))  # a detector's row-major order interleaves them
    assert texts(boxes) == [f"L{r}" for r in range(6)] + [f"R{r}" for r in range(6)]


def test_a_full_width_title_comes_before_the_columns_and_a_footer_after() -> None:
    title = TextBox(50, 20, 760, 40, "Title")
    footer = line(50, 8, 760, "Footer")
    assert texts([footer, *two_columns(6), title]) == [
        "Title",
        *[f"L{r}" for r in range(6)],
        *[f"R{r}" for r in range(6)],
        "Footer",
    ]


def test_a_centred_date_above_two_columns_is_not_pulled_into_a_column() -> None:
    date = TextBox(330, 60, 480, 80, "January 3")  # straddles the gutter's x
    abstract_row = [line(50, 0, 150, "Abstract"), line(410, 0, 760, "R0")]
    body = [line(50, r, 400, f"L{r}") for r in range(1, 5)]
    body += [line(410, r, 760, f"R{r}") for r in range(1, 5)]
    assert texts([date, *abstract_row, *body]) == [
        "January 3",
        "Abstract",
        *[f"L{r}" for r in range(1, 5)],
        *[f"R{r}" for r in range(5)],
    ]


def test_a_longer_left_column_keeps_its_tail_before_the_right_column() -> None:
    assert texts(two_columns(8, rows_right=3)) == [f"L{r}" for r in range(8)] + [
        f"R{r}" for r in range(3)
    ]


def test_boxes_split_within_one_line_join_left_to_right_with_a_space() -> None:
    boxes = [line(400, 0, 700, "jumped over"), line(50, 0, 380, "The quick dog")]
    assert texts(boxes) == ["The quick dog jumped over"]


def test_adjacent_lines_whose_padded_boxes_overlap_stay_separate_lines() -> None:
    boxes = [TextBox(50, 100, 700, 124, "first"), TextBox(50, 120, 700, 146, "second")]
    assert texts(boxes) == ["first", "second"]


def test_a_wide_vertical_gap_starts_a_new_paragraph() -> None:
    boxes = [line(50, r, 700, f"a{r}") for r in range(3)]
    boxes += [line(50, r, 700, f"b{r}", top=100 + LINE) for r in range(4, 6)]
    assert to_markdown(boxes) == "a0\na1\na2\n\nb4\nb5"


def test_a_short_last_line_ends_its_paragraph() -> None:
    boxes = [line(50, 0, 700, "full"), line(50, 1, 250, "short."), line(50, 2, 700, "next")]
    assert [[ln.text for ln in p] for p in paragraphs(reading_order(boxes))] == [
        ["full", "short."],
        ["next"],
    ]


def test_an_indented_line_starts_a_paragraph() -> None:
    boxes = [line(50, 0, 700, "end of one"), line(100, 1, 700, "Indented start")]
    assert to_markdown(boxes) == "end of one\n\nIndented start"


def test_the_next_column_starts_a_new_paragraph() -> None:
    assert to_markdown(two_columns(2)) == "L0\nL1\n\nR0\nR1"


def test_empty_and_blank_boxes_give_empty_text() -> None:
    assert to_markdown([]) == ""
    assert to_markdown([line(50, 0, 700, "   ")]) == ""


def test_a_quadrilateral_becomes_its_bounding_box() -> None:
    box = TextBox.from_quad([[36, 90], [582, 92], [582, 120], [36, 118]], "skewed")
    assert (box.x0, box.y0, box.x1, box.y1) == (36, 90, 582, 120)


def ink_page(column_spans: list[tuple[int, int]], rows: int, width: int = 800) -> np.ndarray:
    """A fake ink mask: each line of text is a dark bar from x0 to x1, LINE px tall."""
    ink = np.zeros((100 + rows * PITCH + 100, width), dtype=bool)
    for r in range(rows):
        y = 100 + r * PITCH
        for x0, x1 in column_spans:
            ink[y : y + LINE, x0:x1] = True
    return ink


def test_a_blank_strip_between_two_columns_of_many_lines_is_a_gutter() -> None:
    [gutter] = find_gutters(ink_page([(50, 390), (410, 760)], rows=20), LINE)
    assert (gutter.x0, gutter.x1) == (390, 410)
    assert gutter.y0 <= 100 and gutter.y1 >= 100 + 19 * PITCH + LINE


def test_margins_and_a_single_column_have_no_gutter() -> None:
    assert find_gutters(ink_page([(50, 760)], rows=20), LINE) == []


def test_a_river_of_word_spaces_through_a_few_lines_is_not_a_gutter() -> None:
    ink = ink_page([(50, 760)], rows=20)
    ink[100 + 5 * PITCH : 100 + 9 * PITCH, 390:410] = False  # four lines share a wide space
    assert find_gutters(ink, LINE) == []


def test_a_box_merged_across_a_gutter_crosses_it_and_a_padded_one_is_trimmed() -> None:
    gutter = Gutter(390, 410, 80, 700)
    merged = line(50, 2, 760, "left words right words")
    padded = line(50, 3, 398, "left words")
    assert gutter.crossed_by(merged)
    assert not gutter.crossed_by(padded)
    assert trim_to_gutters(padded, [gutter]).x1 == 390


def test_three_columns_are_read_left_middle_right() -> None:
    boxes = [
        line(x0, r, x0 + 220, f"{name}{r}")
        for r in range(5)
        for x0, name in ((50, "A"), (285, "B"), (520, "C"))
    ]
    random.Random(3).shuffle(boxes)
    assert texts(boxes) == [f"{name}{r}" for name in "ABC" for r in range(5)]


def test_word_logprobs_follow_their_words_into_reading_order() -> None:
    right = TextBox(410, 100, 760, 120, "right side", (-0.5, -0.6))
    left = TextBox(50, 100, 400, 120, "left", (-0.1,))
    boxes = [right, left, *two_columns(6)[1:6], *[line(410, r, 760, f"R{r}") for r in range(1, 6)]]
    text, logprobs = render(boxes)
    scores = dict(zip(text.split(), logprobs, strict=True))
    assert scores["left"] == -0.1 and scores["right"] == -0.5 and scores["side"] == -0.6
    assert scores["L1"] == 0.0  # a box without scores counts as certain


def test_a_form_of_labels_and_values_is_read_row_by_row() -> None:
    labels = ["Name:", "Date of birth:", "Address:", "Term:", "Income:", "Signed:"]
    values = ["Jane Holloway", "14 March 1984", "27 Mill Lane", "36 months", "41,200", "2 June"]
    boxes = [line(50, r, 50 + 14 * len(label), label) for r, label in enumerate(labels)]
    boxes += [line(400, r, 400 + 14 * len(value), value) for r, value in enumerate(values)]
    random.Random(5).shuffle(boxes)
    assert texts(boxes) == [f"{a} {b}" for a, b in zip(labels, values, strict=True)]


def test_a_table_of_contents_keeps_number_title_and_page_on_one_row() -> None:
    titles = ["Introduction", "Terms of the loan", "Repayment", "Interest", "Insurance"]
    boxes = [line(50, r, 65, str(r + 1)) for r in range(5)]
    boxes += [line(100, r, 100 + 14 * len(t), t) for r, t in enumerate(titles)]
    boxes += [line(700, r, 730, str(10 * r + 3)) for r in range(5)]
    assert texts(boxes) == [f"{r + 1} {t} {10 * r + 3}" for r, t in enumerate(titles)]


def test_two_columns_of_prose_on_one_baseline_grid_stay_columns() -> None:
    boxes = two_columns(6)  # every left line shares its row with a right line
    assert texts(boxes)[:6] == [f"L{r}" for r in range(6)]


def column_beside_a_picture() -> list[TextBox]:
    """A standfirst across the page, then a picture over the left column's first four rows:
    only the right column is there."""
    boxes = [TextBox(50, 70, 760, 90, "Standfirst")]
    boxes += [line(410, r, 760, f"R{r}") for r in range(10)]
    return boxes + [line(50, r, 400, f"L{r}") for r in range(4, 10)]


def test_a_column_beside_a_picture_is_read_after_the_column_under_the_picture() -> None:
    assert texts(column_beside_a_picture()) == [
        "Standfirst",
        *[f"L{r}" for r in range(4, 10)],
        *[f"R{r}" for r in range(10)],
    ]


def test_a_title_beside_a_short_running_head_does_not_take_the_column_under_it() -> None:
    head = TextBox(50, 20, 150, 40, "LOAN NEWS")
    title = TextBox(250, 50, 700, 90, "Title")  # large type, clear of the head's x-range
    assert texts([head, title, *column_beside_a_picture()[1:]]) == [
        "LOAN NEWS",
        "Title",
        *[f"L{r}" for r in range(4, 10)],
        *[f"R{r}" for r in range(10)],
    ]


def test_a_caption_under_a_picture_in_a_column_is_read_in_that_column() -> None:
    boxes = [line(50, r, 400, f"L{r}") for r in (0, 1, 7, 8, 9)]  # the picture: rows 2-5
    boxes += [line(50, 6, 300, "Figure 1"), *[line(410, r, 760, f"R{r}") for r in range(10)]]
    assert texts(boxes) == [
        "L0",
        "L1",
        "Figure 1",
        *[f"L{r}" for r in (7, 8, 9)],
        *[f"R{r}" for r in range(10)],
    ]


def test_a_page_number_below_a_blank_band_is_read_after_every_column() -> None:
    page_number = line(200, 10, 220, "7")  # under the left column, four rows below the body
    assert texts([page_number, *two_columns(6)]) == [
        *[f"L{r}" for r in range(6)],
        *[f"R{r}" for r in range(6)],
        "7",
    ]


def columns_around_a_picture(caption: list[TextBox]) -> list[TextBox]:
    """Two columns of 12 rows; a picture across the gutter over rows 4-7 with `caption`
    under it, both columns narrowed around the two (left ends at 250, right starts at 560)."""
    boxes = []
    for r in range(12):
        beside = 4 <= r <= 9
        boxes.append(line(50, r, 250 if beside else 400, f"L{r}"))
        boxes.append(line(560 if beside else 410, r, 760, f"R{r}"))
    return boxes + caption


def test_a_caption_across_the_gutter_between_columns_is_read_between_them() -> None:
    # Before: the left column down to the caption, the right column's top, the caption,
    # then the rest of both columns row by row (the caption closed the gutter below it).
    caption = [line(270, 8, 540, "Figure 1. A hall"), line(270, 9, 540, "now a library.")]
    assert texts(columns_around_a_picture(caption)) == [
        *[f"L{r}" for r in range(12)],
        "Figure 1. A hall",
        "now a library.",
        *[f"R{r}" for r in range(12)],
    ]


def test_a_line_across_the_gutter_with_no_columns_above_it_does_not_float() -> None:
    byline = TextBox(300, 60, 510, 80, "By Ann Carter")  # centred over the columns
    assert texts([byline, *two_columns(6)]) == [
        "By Ann Carter",
        *[f"L{r}" for r in range(6)],
        *[f"R{r}" for r in range(6)],
    ]


def test_a_line_running_the_width_of_the_columns_does_not_float() -> None:
    # A rule of text across both columns mid-page ends a section: each part is read by
    # its own columns, not the columns around the line.
    boxes = [line(50, r, 400, f"L{r}") for r in (0, 1, 2, 4, 5, 6)]
    boxes += [line(410, r, 760, f"R{r}") for r in (0, 1, 2, 4, 5, 6)]
    boxes.append(line(50, 3, 760, "Across"))
    assert texts(boxes) == [
        *["L0", "L1", "L2", "R0", "R1", "R2"],
        "Across",
        *["L4", "L5", "L6", "R4", "R5", "R6"],
    ]
