"""clean_text: what a text layer may carry, made safe for files and readers."""

from __future__ import annotations

import pytest

from ocr_core import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("one\x0ctwo", "one\ntwo"),  # a form feed inside a page is a line break
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("tab\tstays", "tab\tstays"),
        ("back\x08space and \x00nul", "backspace and nul"),
        ("c1\x85break \x9bcsi", "c1\nbreak csi"),
        ("exam\ufffe\nple", "exam-\nple"),  # pdfium's line-end hyphen
        ("para\u2029graph", "para\ngraph"),
        ("Ünïcödé — “quoted”", "Ünïcödé — “quoted”"),
    ],
)
def test_controls_become_breaks_or_go(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
