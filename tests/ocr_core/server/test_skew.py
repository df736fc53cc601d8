"""A scan a little off square: its skew from the detector's line quads, and the boxes turned
back so the reading order sees its columns."""

from __future__ import annotations

import math

import pytest

from ocr_core.server._layout import TextBox, reading_order
from ocr_core.server._skew import deskewed, skew_degrees

PAGE = (1000, 800)  # height, width


def _quad(x: float, y: float, width: float, height: float, degrees: float) -> list[list[float]]:
    """A line's quad (top-left, top-right, bottom-right, bottom-left) sloping by `degrees`."""
    a = math.radians(degrees)
    dx, dy = math.cos(a), math.sin(a)
    return [
        [x, y],
        [x + width * dx, y + width * dy],
        [x + width * dx - height * dy, y + width * dy + height * dx],
        [x - height * dy, y + height * dx],
    ]


def _turned_box(x: float, y: float, width: float, height: float, degrees: float) -> TextBox:
    """The upright box a detector draws around a line at (x, y) of a page turned `degrees`
    about its centre."""
    cx, cy = PAGE[1] / 2, PAGE[0] / 2
    a = math.radians(degrees)
    corners = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    cos, sin = math.cos(a), math.sin(a)
    turned = [
        (cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos)
        for px, py in corners
    ]
    xs, ys = [p[0] for p in turned], [p[1] for p in turned]
    return TextBox(min(xs), min(ys), max(xs), max(ys), f"{x:.0f},{y:.0f}")


def test_the_skew_is_the_median_slope_of_the_long_lines() -> None:
    quads = [_quad(100, 100 + 30 * i, 300, 20, 1.5) for i in range(9)]
    quads.append(_quad(500, 100, 300, 20, 8.0))  # one odd line does not move the median
    assert skew_degrees(quads) == pytest.approx(1.5, abs=0.01)


def test_a_square_page_and_a_page_of_short_boxes_are_not_skewed() -> None:
    assert skew_degrees([_quad(100, 100 + 30 * i, 300, 20, 0.1) for i in range(9)]) == 0.0
    assert skew_degrees([_quad(100, 100 + 30 * i, 30, 20, 2.0) for i in range(9)]) == 0.0


def test_two_columns_turned_off_square_read_column_by_column_once_deskewed() -> None:
    lines = [(x, 20 + 24 * row) for x in (60, 410) for row in range(40)]  # a 20 px gutter
    boxes = [_turned_box(x, y, 330, 18, 1.5) for x, y in lines]
    truth = [f"{x},{y}" for x, y in lines]

    def order(found: list[TextBox]) -> list[str]:
        return [box.text for line in reading_order(found) for box in line.boxes]

    assert order(boxes) != truth  # the slope closes the gutter
    assert order(deskewed(boxes, 1.5, PAGE)) == truth
