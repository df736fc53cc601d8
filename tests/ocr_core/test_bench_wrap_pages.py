"""The wrap-around test pages: a picture set between two columns that narrow around it."""

from __future__ import annotations

import numpy as np

from ocr_core.bench._wrap_pages import WRAP_COLUMN, WRAP_GUTTER, WRAP_MARGIN, wrap_page, wrap_pages


def test_every_wrap_page_is_drawn_the_same_on_every_run() -> None:
    for first, again in zip(wrap_pages(), wrap_pages(), strict=True):
        assert first.truth == again.truth
        assert first.image.tobytes() == again.image.tobytes()


def test_picture_and_caption_close_the_gutter_no_blank_strip_runs_the_body_s_height() -> None:
    # What makes the page hard: an XY-cut finds no gutter over the whole body.
    ink = np.asarray(wrap_page().image) < 128
    gutter = WRAP_MARGIN + WRAP_COLUMN, WRAP_MARGIN + WRAP_COLUMN + WRAP_GUTTER
    body = ink[220:1640, gutter[0] : gutter[1]]
    assert body.any(axis=0).all()


def test_the_truth_reads_the_caption_between_the_left_and_the_right_column() -> None:
    lines = wrap_page().truth.splitlines()
    caption = next(i for i, text in enumerate(lines) if text.startswith("Figure 3."))
    assert 40 < caption < len(lines) - 40  # both columns hold ~50 lines
