"""Lines found in the service's text instead of read whole (`ocr_core._anchored`): most lines
of a page cost two word crops, and what they place still sits on its ink."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocr_core import PageWords, engine_available
from ocr_core._anchored import Run, find_runs
from ocr_core._line_pieces import word_spans
from ocr_core._locate import _lines, place_words, service_words
from ocr_core._word_widths import WIDTH_FACTOR, misfit
from ocr_core.bench.locate import CORPUS, overlap_share, service_text, true_page

PAGE = CORPUS / "pdflatex-4-pages.pdf"
TWO_COLUMNS = CORPUS / "multicolumn.pdf"


def test_a_line_ending_in_a_hyphen_is_found_by_the_start_of_its_last_word() -> None:
    said = ["lorem", "ipsum", "consectetuer", "adipiscing"]
    assert find_runs(said, "ipsum", "con", 2) == [Run(1, first_cut=False, last_cut=True)]
    assert find_runs(said, "sectetuer", "adipiscing", 2) == [Run(2, first_cut=True, last_cut=False)]


def test_a_run_whose_words_are_not_as_wide_as_their_ink_is_not_taken() -> None:
    # "Kjift –": a gap after the K taken for a word break and the dash joined to "jift".
    assert misfit(["Kjift", "–"], [(508, 515), (528, 585)]) > math.log(WIDTH_FACTOR)
    assert misfit(["some", "nonsense"], [(100, 140), (150, 232)]) < math.log(WIDTH_FACTOR)


def test_a_dash_set_off_by_gaps_is_a_word_of_its_own() -> None:
    dark = np.zeros((30, 100), dtype=np.uint8)
    dark[5:25, 10:30] = 1  # a word: tall ink
    dark[14:16, 40:52] = 1  # an en dash: short and wide, past a word gap
    dark[5:25, 62:80] = 1  # the next word
    assert word_spans(dark, (0, 0, 100, 30))[2] == [(10, 30), (40, 52), (62, 80)]


def test_a_full_stop_set_off_by_a_gap_stays_with_its_word() -> None:
    dark = np.zeros((30, 100), dtype=np.uint8)
    dark[5:25, 10:30] = 1  # a word: tall ink
    dark[5:25, 40:60] = 1  # the next word, past a word gap
    dark[21:25, 66:69] = 1  # a full stop, past a gap as wide as a word gap
    top, bottom, spans = word_spans(dark, (0, 0, 100, 30))
    assert (top, bottom) == (5, 25)
    assert spans == [(10, 30), (40, 69)]


@pytest.fixture(scope="module")
def engine() -> object:
    if not engine_available():
        pytest.skip("the local extra")
    from ocr_core.server._engine import RapidOcrEngine

    return RapidOcrEngine(orient=False, small_text=False)


def _anchor(
    engine: object, *, unread: bool, page: Path = PAGE, simulated: bool = True
) -> tuple[object, float]:
    """A PDF's first page anchored on a service's text (simulated, or the page's own), and
    the share of its located words on a true box of the same word (IoU >= 0.5)."""
    from ocr_core._anchored import anchored_lines
    from ocr_core.server._page_geometry import ink

    truth = true_page(page, 0)
    text = service_text(truth.text, seed=0) if simulated else truth.text
    bgr = np.ascontiguousarray(np.asarray(truth.image.convert("RGB"))[:, :, ::-1])
    said = service_words(text)
    found = anchored_lines(engine, bgr, ink(bgr), said, unread=unread)  # type: ignore[arg-type]
    lines = _lines(found.lines)
    words = PageWords(truth.image.width, truth.image.height, tuple(place_words(text, lines)), ())
    hits, boxed = overlap_share(words, truth)
    assert boxed >= 0.98 * len(words.words)
    return found, hits / boxed


@pytest.mark.skipif(not PAGE.exists(), reason="corpus")
def test_most_lines_are_found_in_the_text_and_their_words_sit_on_their_ink(
    engine: object,
) -> None:
    found, on_ink = _anchor(engine, unread=False)
    assert found.ends_read == found.pieces  # type: ignore[attr-defined]
    assert found.read_whole <= found.pieces // 4  # type: ignore[attr-defined]
    assert on_ink >= 0.99


@pytest.mark.skipif(not PAGE.exists(), reason="corpus")
def test_most_lines_are_placed_by_their_widths_without_reading_and_sit_on_their_ink(
    engine: object,
) -> None:
    found, on_ink = _anchor(engine, unread=True)
    assert found.ends_read <= found.pieces // 4  # type: ignore[attr-defined]
    # Its lines with "Kjift –" (a gap after the K taken for a word break) are placed
    # between their neighbours, the K joined again, not read whole.
    assert found.read_whole <= found.pieces // 20  # type: ignore[attr-defined]
    assert on_ink >= 0.99


@pytest.mark.skipif(not TWO_COLUMNS.exists(), reason="corpus")
def test_on_a_two_column_page_read_across_by_the_layout_most_lines_are_placed_unread(
    engine: object,
) -> None:
    # The layout reads this page's rows across its columns; the text goes down each column.
    found, on_ink = _anchor(engine, unread=True, page=TWO_COLUMNS, simulated=False)
    assert found.ends_read <= found.pieces // 4  # type: ignore[attr-defined]
    assert on_ink >= 0.99


def _corners(quads: list[Any]) -> list[tuple[int, ...]]:
    return sorted(tuple(round(v) for v in (*np.min(q, axis=0), *np.max(q, axis=0))) for q in quads)


@pytest.mark.skipif(not PAGE.exists(), reason="corpus")
def test_lines_detected_on_the_pages_ink_alone_are_those_of_the_whole_page(
    engine: object,
) -> None:
    from ocr_core._line_pieces import detect_on_ink
    from ocr_core.server._page_geometry import detection_scale, ink

    image = true_page(PAGE, 0).image
    bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    dark = ink(bgr)
    scale = detection_scale(dark)
    whole = _corners(engine._detect(bgr, scale, classify=False)[0])  # type: ignore[attr-defined]
    on_ink = _corners(detect_on_ink(engine, bgr, dark, scale)[0])  # type: ignore[arg-type]
    assert len(on_ink) == len(whole)
    for corners in whole:  # each line has its twin, a few pixels off at most
        assert min(max(abs(a - b) for a, b in zip(corners, c, strict=True)) for c in on_ink) <= 6
