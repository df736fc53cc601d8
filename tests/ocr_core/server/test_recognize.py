"""CTC decoding that keeps word spaces: synthetic recogniser outputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocr_core.server._recognize import MIN_LOGPROB, decode, ink_gaps

CHARSET = ["blank", "a", "b", "c", ",", "1", " "]  # rapidocr's layout: blank first, space last


def steps(*columns: dict[str, float]) -> np.ndarray:
    """One row per timestep; unnamed probability mass goes to the blank."""
    probs = np.zeros((len(columns), len(CHARSET)), dtype=np.float32)
    for row, column in enumerate(columns):
        for char, p in column.items():
            probs[row, CHARSET.index(char)] = p
        probs[row, 0] = 1.0 - sum(column.values())
    return probs


def test_a_gap_where_the_space_class_is_likely_but_not_best_becomes_a_space() -> None:
    probs = steps({"a": 0.9}, {" ": 0.3}, {"b": 0.9})
    assert decode(probs, CHARSET).text == "a b"


def test_a_gap_with_almost_no_space_probability_stays_joined() -> None:
    probs = steps({"a": 0.9}, {" ": 0.01}, {"b": 0.9})
    assert decode(probs, CHARSET).text == "ab"


def test_a_space_on_the_greedy_path_is_kept_once() -> None:
    probs = steps({"a": 0.9}, {" ": 0.7}, {" ": 0.8}, {"b": 0.9})
    assert decode(probs, CHARSET).text == "a b"


def test_a_character_held_over_several_steps_is_one_character_and_a_blank_splits_doubles() -> None:
    probs = steps({"a": 0.6}, {"a": 0.9}, {}, {"a": 0.8})
    line = decode(probs, CHARSET)
    assert line.text == "aa"
    assert line.word_logprobs == pytest.approx((math.log(0.9) + math.log(0.8),))


def test_each_word_gets_the_sum_of_its_characters_log_probabilities() -> None:
    probs = steps({"a": 0.6}, {"b": 0.8}, {" ": 0.9}, {"c": 0.55})
    line = decode(probs, CHARSET)
    assert line.text == "ab c"
    assert line.word_logprobs == pytest.approx((math.log(0.6) + math.log(0.8), math.log(0.55)))
    assert line.score == pytest.approx((0.6 + 0.8 + 0.55) / 3)


def test_an_empty_line_has_no_words_and_zero_score() -> None:
    line = decode(steps({}, {}), CHARSET)
    assert (line.text, line.word_logprobs, line.score) == ("", (), 0.0)


def test_a_character_given_no_probability_has_a_finite_floor() -> None:
    probs = steps({"a": 0.9})
    probs[0] = 0.0
    probs[0, 1] = 1e-30  # argmax still "a", with a vanishing probability
    assert decode(probs, CHARSET).word_logprobs == (MIN_LOGPROB,)


def test_each_word_spans_the_timesteps_its_characters_were_seen_at() -> None:
    # "ab c" over 8 steps: "a" at 1-2, "b" at 3, a space at 4-5, "c" at 6.
    probs = steps({}, {"a": 0.9}, {"a": 0.9}, {"b": 0.9}, {" ": 0.8}, {" ": 0.8}, {"c": 0.9}, {})
    line = decode(probs, CHARSET)
    assert line.text == "ab c"
    assert line.word_spans == ((1 / 8, 4 / 8), (6 / 8, 7 / 8))


def crop_with_gaps(*gaps: int, height: int = 30) -> np.ndarray:
    """A white line crop with 10-px black glyphs separated by the given blank widths."""
    x, columns = 5, [(5, 15)]
    for gap in gaps:
        x += 10 + gap
        columns.append((x, x + 10))
    crop = np.full((height, x + 15, 3), 255, dtype=np.uint8)
    for a, b in columns:
        crop[5:25, a:b] = 0
    return crop


def test_ink_gaps_are_the_blank_runs_as_wide_as_a_word_space_between_the_ink() -> None:
    # Type 20 px tall: a 6 px gap is a word space (>= 0.2 of it), a 2 px gap is not.
    (gap,) = ink_gaps(crop_with_gaps(2, 6, 2))
    middle, width = gap
    assert width == pytest.approx(0.3) and middle == pytest.approx(
        (27 + 33) / 2 / 60
    )  # glyphs end 27, start 33


def test_an_ink_gap_between_two_letters_the_path_joined_becomes_a_space() -> None:
    probs = steps({"a": 0.9}, {" ": 0.01}, {"b": 0.9})
    assert decode(probs, CHARSET, word_gaps=[(1.5, 0.35)]).text == "a b"


def test_in_a_line_with_no_space_written_a_narrow_ink_gap_stays_joined() -> None:
    # "Add ress": a lone word's gap of a quarter of its type is a wide letter gap.
    probs = steps({"a": 0.9}, {" ": 0.01}, {"b": 0.9})
    assert decode(probs, CHARSET, word_gaps=[(1.5, 0.25)]).text == "ab"


def test_an_ink_gap_beside_a_comma_or_a_digit_is_no_space() -> None:
    probs = steps({"1": 0.9}, {",": 0.9}, {}, {"1": 0.9})
    assert decode(probs, CHARSET, word_gaps=[(2.5, 0.4)]).text == "1,1"


def test_an_ink_gap_where_the_space_class_did_not_stir_is_no_space() -> None:
    # "ll" in "call", read small: as wide as the line's word spaces, but the recogniser gave
    # its gap no thought of a space (under 0.0004; the spaces it missed get 0.004-0.02).
    probs = steps({"a": 0.9}, {" ": 0.9}, {"b": 0.9}, {" ": 0.0003}, {"c": 0.9})
    assert decode(probs, CHARSET, word_gaps=[(1.5, 0.3), (3.5, 0.3)]).text == "a bc"


def test_an_ink_gap_narrower_than_the_line_s_own_word_spaces_is_no_space() -> None:
    # The path wrote the first space at a gap of half the type; a fifth is kerning.
    probs = steps({"a": 0.9}, {" ": 0.9}, {"b": 0.9}, {" ": 0.005}, {"c": 0.9})
    assert decode(probs, CHARSET, word_gaps=[(1.5, 0.5), (3.5, 0.2)]).text == "a bc"
    assert decode(probs, CHARSET, word_gaps=[(1.5, 0.5), (3.5, 0.4)]).text == "a b c"
