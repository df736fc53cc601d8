"""The quality bench's scores measure what QA notices, and its pages hold what they claim."""

from __future__ import annotations

import pytest

from ocr_core.bench._pages import dense_page, synthetic_pages, turned
from ocr_core.bench._quality import levers
from ocr_core.bench._score import score, words

TRUTH = "The quick brown fox\njumps over the lazy dog\nand runs away."


def test_words_run_together_cost_word_f1_more_than_cer() -> None:
    result = score(TRUTH, "Thequick brown fox\njumps overthe lazy dog\nand runs away.")
    assert result.cer < 0.05
    assert result.f1 < 0.85


def test_a_perfect_read_scores_one_and_zero() -> None:
    result = score(TRUTH, TRUTH.replace("\n", " "))
    assert (result.f1, result.recall, result.cer, result.lost_lines) == (1.0, 1.0, 0.0, 0)


def test_a_missing_line_is_counted_as_lost() -> None:
    result = score(TRUTH, "The quick brown fox\nand runs away.")
    assert (result.lost_lines, result.lines) == (1, 3)


def test_reading_lines_out_of_order_keeps_f1_but_raises_cer() -> None:
    result = score(TRUTH, "and runs away.\njumps over the lazy dog\nThe quick brown fox")
    assert result.f1 == 1.0
    assert result.cer > 0.3


def test_punctuation_at_word_edges_is_not_part_of_the_word() -> None:
    assert words("«rapide» (quick) e-mail, 12.5%") == ["rapide", "quick", "e-mail", "12.5"]


def test_every_synthetic_page_has_ink_and_ground_truth() -> None:
    for page in synthetic_pages():
        assert page.truth.strip()
        assert page.image.convert("L").getextrema()[0] == 0, page.name  # something is drawn


@pytest.mark.parametrize("degrees", [90, 270])
def test_a_page_turned_a_quarter_swaps_width_and_height(degrees: int) -> None:
    page = synthetic_pages()[0]
    assert turned(page, degrees).image.size == page.image.size[::-1]


def test_the_dense_page_is_the_same_on_every_run_and_holds_three_columns_of_lines() -> None:
    first, again = dense_page(), dense_page()
    assert first.truth == again.truth
    assert first.image.tobytes() == again.image.tobytes()
    assert len(first.truth.splitlines()) > 200


def test_straightening_skewed_scans_is_a_lever_of_its_own() -> None:
    *_, small_text, square, _tuned, _sized, _reused, _inked = levers(2000)
    assert (small_text.options["deskew"], square.options) == (
        False,
        {**small_text.options, "deskew": True},
    )


def test_the_speed_levers_follow_the_skew_lever_and_change_only_speed_options() -> None:
    *_, square, tuned, sized, reused, _inked = levers(2000)
    speed = ("tuned", "sized_detection", "turn_detection")
    assert not any(square.options[option] for option in speed)
    assert tuned.options == {**square.options, "tuned": True}
    assert sized.options == {**tuned.options, "sized_detection": True}
    assert reused.options == {**sized.options, "turn_detection": True}


def test_word_spaces_from_the_ink_are_the_last_lever_and_change_only_that() -> None:
    *_, reused, inked = levers(2000)
    assert (reused.options["ink_spaces"], inked.options) == (
        False,
        {**reused.options, "ink_spaces": True},
    )
