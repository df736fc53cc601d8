"""Boxes estimated for the words that were not found on the page: between the words around
them, inside the page, in reading order."""

from __future__ import annotations

from ocr_core import LocatedWord, PageWords
from ocr_core._placement import placed_words

# One line of four words 20 px tall at y 100-120, each 40 px wide with 20 px between them.
LINE = tuple(
    LocatedWord(text, (20.0 + 60 * k, 100.0, 60.0 + 60 * k, 120.0), 0, 0)
    for k, text in enumerate(("abcd", "efgh", "ijkl", "mnop"))
)


def _inside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    x0, y0, x1, y1 = box
    return 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_located_words_keep_their_boxes() -> None:
    placed = placed_words(PageWords(400, 300, LINE, ()))
    assert [box for _, box in placed] == [w.box for w in LINE]


def test_a_missing_word_sits_between_its_located_neighbours_at_their_height() -> None:
    words = (LINE[0], LocatedWord("xyz", None, 0, 0), LINE[1])
    (_, before), (_, missing), (_, after) = placed_words(PageWords(400, 300, words, ()))
    assert before[2] < missing[0] < missing[2] < after[0]
    assert (missing[1], missing[3]) == (100.0, 120.0)


def test_missing_words_at_a_lines_end_follow_the_last_located_word_inside_the_page() -> None:
    words = (*LINE, *(LocatedWord(f"tail{k}", None, 0, 0) for k in range(20)))
    placed = placed_words(PageWords(300, 300, words, ()))
    tail = [box for word, box in placed if word.box is None]
    assert all(_inside(box, 300, 300) for box in tail)
    assert tail[0][0] >= LINE[-1].box[2]  # type: ignore[index]
    assert [box[0] for box in tail] == sorted(box[0] for box in tail)


def test_missing_words_before_the_first_located_word_precede_it() -> None:
    words = (LocatedWord("lead", None, 0, 0), *LINE[1:])
    (_, lead), (_, first), *_ = placed_words(PageWords(400, 300, words, ()))
    assert 0 <= lead[0] < lead[2] <= first[0]


def test_lines_without_a_located_word_share_the_band_between_the_located_lines() -> None:
    below = tuple(
        LocatedWord(w.text, (w.box[0], 260.0, w.box[2], 280.0), 3, 0)  # type: ignore[index]
        for w in LINE
    )
    missing = (LocatedWord("one", None, 1, 0), LocatedWord("two", None, 2, 0))
    placed = dict(
        (word.line, box)
        for word, box in placed_words(PageWords(400, 300, LINE + missing + below, ()))
    )
    assert 120.0 <= placed[1][1] < placed[1][3] <= placed[2][1] < placed[2][3] <= 260.0


def test_a_page_of_words_none_of_them_located_stays_inside_the_page_in_reading_order() -> None:
    words = tuple(LocatedWord(f"w{k}", None, k // 10, k // 50) for k in range(1000))
    placed = placed_words(PageWords(1000, 1400, words, ()))
    assert all(_inside(box, 1000, 1400) for _, box in placed)
    tops = [box[1] for word, box in placed if word.text.endswith("0")]
    assert tops == sorted(tops) and len(set(tops)) == 100  # one band per line, down the page


def test_a_line_reading_up_the_page_still_gets_a_band_inside_it() -> None:
    # The next located line in reading order is above (the top of the next column).
    low = LocatedWord("foot", (20.0, 280.0, 60.0, 295.0), 0, 0)
    top = LocatedWord("head", (220.0, 10.0, 260.0, 25.0), 2, 1)
    words = (low, LocatedWord("lost", None, 1, 0), top)
    (lost,) = [box for word, box in placed_words(PageWords(400, 300, words, ())) if not word.box]
    assert _inside(lost, 400, 300)
