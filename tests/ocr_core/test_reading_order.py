"""A text that reads the page in another order than its layout is doubted: the corpus's
two-column page located with its own text (read in columns) and with the same words read
across both columns, row by row, as a model that misses the gutter writes them."""

from __future__ import annotations

import pytest

from ocr_core import OrderCheck, PageWords, check_order, locate_words
from ocr_core._locate import DetectedLine, LocatedWord
from ocr_core.bench.locate import CORPUS, TruePage, true_page


def _read_across(truth: TruePage) -> str:
    """The page's words row by row across the columns (rows: words whose middles are
    within half a word's height of each other), left to right."""
    rows: list[tuple[float, list[tuple[str, tuple[float, float, float, float]]]]] = []
    for word in sorted(truth.words, key=lambda w: (w[1][1] + w[1][3]) / 2):
        middle, height = (word[1][1] + word[1][3]) / 2, word[1][3] - word[1][1]
        if rows and abs(rows[-1][0] - middle) < height / 2:
            rows[-1][1].append(word)
        else:
            rows.append((middle, [word]))
    return "\n".join(
        " ".join(text for text, _ in sorted(row, key=lambda w: w[1][0])) for _, row in rows
    )


@pytest.fixture(scope="module")
def two_readings() -> tuple[OrderCheck, OrderCheck]:
    truth = true_page(CORPUS / "multicolumn.pdf", 0)
    in_columns = check_order(locate_words(truth.image, truth.text))
    across = check_order(locate_words(truth.image, _read_across(truth)))
    return in_columns, across


def test_a_page_read_in_its_columns_is_not_doubted(
    two_readings: tuple[OrderCheck, OrderCheck],
) -> None:
    in_columns, _ = two_readings
    assert in_columns.moves > 40
    assert in_columns.reason() is None


def test_a_page_read_across_its_columns_is_doubted(
    two_readings: tuple[OrderCheck, OrderCheck],
) -> None:
    _, across = two_readings
    assert across.doubtful
    assert "columns read across?" in (across.reason() or "")


def _page(visits: list[int]) -> PageWords:
    """Ten engine lines down the page; one word on each line the text visits, in order."""
    lines = tuple(DetectedLine((0, 20 * n, 100, 20 * n + 10), "w", ()) for n in range(10))
    words = tuple(
        LocatedWord("w", (10, 20 * n + 2, 20, 20 * n + 8), line, 0) for line, n in enumerate(visits)
    )
    return PageWords(100, 200, words, lines)


def test_a_few_steps_back_are_a_caption_or_a_header_not_a_doubt() -> None:
    check = check_order(_page([9, 0, 1, 2, 3, 4, 5, 6, 8, 7]))
    assert (check.moves, check.steps_back) == (9, 2)
    assert not check.doubtful


def test_words_without_a_box_and_repeated_lines_are_not_moves() -> None:
    page = _page([0, 0, 1])
    unplaced = LocatedWord("x", None, 3, 0)
    check = check_order(PageWords(100, 200, (*page.words, unplaced), page.lines))
    assert (check.moves, check.steps_back) == (1, 0)
