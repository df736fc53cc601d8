"""Lines placed on the service's words by their widths alone (`ocr_core._word_widths`): a
line takes the words that follow on from the line before it when each is as wide as its
letters say, and no others."""

from __future__ import annotations

import pytest

from ocr_core._word_widths import WordWidths, ems

pytest.importorskip("numpy")

TEXT = (
    "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Ut purus elit, vestibulum ut, "
    "placerat ac, adipiscing vitae, felis. Curabitur dictum gravida mauris."
)
WORDS = TEXT.split()
PER_EM = 20  # px of ink per em on this page


def ink(words: list[str], x: int = 100) -> list[tuple[int, int]]:
    """Each word's span as a page set at PER_EM would show it."""
    spans = []
    for word in words:
        width = round(ems(word) * PER_EM)
        spans.append((x, x + width))
        x += width + 6
    return spans


def test_a_word_as_wide_as_its_letters_say_is_wider_for_wide_letters() -> None:
    assert ems("mom") > ems("ill")


def test_a_long_line_takes_the_words_that_follow_on_when_their_widths_fit() -> None:
    widths = WordWidths(WORDS)
    assert widths.unread_start([ink(WORDS[2:10])], expected=2) == 2


def test_a_line_taken_one_word_off_does_not_fit() -> None:
    widths = WordWidths(WORDS)
    line = ink(WORDS[3:8])
    assert not widths.fits(2, line)
    assert widths.fits(3, line)


def test_a_shorter_line_is_placed_only_when_the_line_after_it_fits_where_it_ends() -> None:
    widths = WordWidths(WORDS)
    short, after = ink(WORDS[0:5]), ink(WORDS[5:10])
    assert widths.unread_start([short], expected=0) is None
    assert widths.unread_start([short, after], expected=0) == 0
    assert widths.unread_start([short, ink(WORDS[7:12])], expected=0) is None


def test_a_line_cut_into_pieces_of_a_few_words_is_placed_when_they_fit_together() -> None:
    # A justified line the detector cut at its wide spaces: three pieces of three words.
    widths = WordWidths(WORDS)
    pieces = [ink(WORDS[k : k + 3]) for k in (0, 3, 6)]
    assert widths.unread_start(pieces, expected=0) == 0
    assert widths.unread_start(pieces[:1], expected=0) is None  # three words fit anywhere
    wrong_third = [*pieces[:2], ink(WORDS[12:15])]
    assert widths.unread_start(wrong_third, expected=0) is None


def test_on_a_guessed_start_only_a_long_line_is_placed() -> None:
    widths = WordWidths(WORDS)
    short, after = ink(WORDS[0:5]), ink(WORDS[5:10])
    assert widths.unread_start([short, after], expected=0, guessed=True) is None
    assert widths.unread_start([ink(WORDS[0:8])], expected=0, guessed=True) == 0


def test_a_long_line_whose_guess_is_a_word_out_is_found_again_nearby() -> None:
    # The line before it was counted a word too many (a word the detector cut in two).
    widths = WordWidths(WORDS)
    assert widths.unread_start([ink(WORDS[3:12])], expected=4) == 3


def test_a_gap_inside_a_word_taken_for_a_break_does_not_fit() -> None:
    # "K jift": the count of the run is kept, the widths are not.
    words = ["Kjift", "not", "at", "all!"]
    spans = [(508, 515), (528, 560), (570, 610), (620, 650)]
    assert not WordWidths(words).fits(0, spans)


def test_a_line_longer_than_the_text_fits_nowhere() -> None:
    widths = WordWidths(WORDS[:3])
    assert widths.unread_start([ink(WORDS[:9])], expected=0) is None


def test_a_gap_inside_a_word_taken_for_a_break_is_joined_again_when_the_join_fits() -> None:
    words = ["like", "Kjift", "–", "not", "at", "all!"]
    k, jift = ink(["K"], x=100)[0], ink(["jift"], x=100 + round(ems("K") * PER_EM) + 6)[0]
    spans = [*ink(["like"], x=0), k, jift, *ink(["–", "not", "at", "all!"], x=jift[1] + 8)]
    joined = WordWidths(words).joined_to_fit(0, len(words), spans)
    assert joined is not None and joined[1] == (k[0], jift[1])
    assert WordWidths(words).joined_to_fit(0, len(words) - 1, spans) is None


def test_no_words_between_two_lines_fit_no_ink() -> None:
    widths = WordWidths(WORDS)
    assert widths.joined_to_fit(3, 0, ink(["dolor"])) is None
    assert widths.joined_to_fit(3, 0, []) is None


def test_a_line_is_placeable_unread_only_with_enough_words_that_fit_somewhere() -> None:
    widths = WordWidths(WORDS)
    assert widths.placeable([ink(WORDS[4:13])])
    assert not widths.placeable([ink(WORDS[0:3])])  # three words, nothing after: read it
    assert widths.placeable([ink(WORDS[0:3]), ink(WORDS[3:9])])
    wide = [(100 + 80 * k, 100 + 80 * k + (300 if k == 4 else 40)) for k in range(9)]
    assert not widths.placeable([wide])  # one word seven times as wide as its neighbours
