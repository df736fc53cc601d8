"""Which way up a page is, from detector boxes and classifier votes."""

from __future__ import annotations

import numpy as np

from ocr_core.server._orientation import is_sideways, is_upside_down


def quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def crop(width: int) -> np.ndarray:
    return np.zeros((30, width, 3), dtype=np.uint8)


def test_lines_running_down_the_page_mean_it_is_sideways() -> None:
    tall = [quad(100 + 50 * i, 100, 130 + 50 * i, 900) for i in range(6)]
    assert is_sideways(tall)


def test_a_page_of_ordinary_lines_with_a_tall_stamp_is_not_sideways() -> None:
    lines = [quad(100, 100 + 50 * i, 900, 130 + 50 * i) for i in range(6)]
    assert not is_sideways([*lines, quad(950, 100, 980, 300)])
    assert not is_sideways([])


def test_most_text_voted_180_means_upside_down() -> None:
    votes = [("180", 0.99), ("180", 0.95), ("0", 0.97)]
    assert is_upside_down(votes, [crop(800), crop(700), crop(100)])


def test_a_few_short_lines_voted_180_do_not_turn_the_page() -> None:
    votes = [("180", 0.99), ("0", 0.9), ("0", 0.95)]
    assert not is_upside_down(votes, [crop(60), crop(800), crop(700)])


def test_unsure_180_votes_do_not_count() -> None:
    votes = [("180", 0.55), ("180", 0.52)]
    assert not is_upside_down(votes, [crop(800), crop(800)])
