"""The engine's speed levers keep its reading: sessions sized to the machine, lines read side
by side, detection sized to the type, and a priming read before the server says it is ready.
(Speed itself is shown by `python -m ocr_core.bench --only quality`, not asserted here:
timings on a shared machine are noise.)"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_core.bench._pages import SyntheticPage, dense_page, letter_page, turned
from ocr_core.server._engine import RapidOcrEngine
from ocr_core.server._page_geometry import MIN_DETECTION_SCALE, detection_scale
from ocr_core.server._priming import PRIMING_LINES, priming_page
from tests.fakes.local_server import LocalServer
from tests.waits import logged

from ._requests import chat_body, data_uri, encode


@pytest.fixture(scope="module")
def tuned() -> RapidOcrEngine:
    return RapidOcrEngine(threads=2)


@pytest.fixture(scope="module")
def untuned() -> RapidOcrEngine:
    return RapidOcrEngine(tuned=False)


@pytest.mark.parametrize("make_page", [letter_page, dense_page], ids=["letter", "dense"])
def test_lines_read_side_by_side_read_as_one_by_one(
    tuned: RapidOcrEngine, untuned: RapidOcrEngine, make_page: Callable[[], SyntheticPage]
) -> None:
    image = make_page().image.convert("RGB")
    fast, plain = tuned.read(image), untuned.read(image)
    assert fast.text == plain.text
    assert fast.word_logprobs == pytest.approx(plain.word_logprobs, abs=1e-3)


def test_sessions_do_not_spin_and_lines_get_one_thread_each(tuned: RapidOcrEngine) -> None:
    ocr = tuned._ocr
    detector = ocr.text_det.infer.session.get_session_options()
    recogniser = ocr.text_rec.session.session.get_session_options()
    classifier = ocr.text_cls.infer.session.get_session_options()
    assert detector.intra_op_num_threads == 2
    assert (recogniser.intra_op_num_threads, classifier.intra_op_num_threads) == (1, 1)
    for options in (detector, recogniser, classifier):
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert not options.enable_cpu_mem_arena  # buffers go back after each page


def test_the_priming_page_runs_every_model(tuned: RapidOcrEngine) -> None:
    # Detection, the 0/180 classifier and recognition all see text, so all are warmed.
    text = tuned.read(priming_page()).text
    assert PRIMING_LINES[0].split()[0] in text, text


def test_health_says_ready_only_once_the_engine_is_primed(local_server: LocalServer) -> None:
    [ready] = logged(local_server.log_text, lambda r: r["message"].startswith("engine ready in"))
    assert ready["primed_s"] > 0
    assert ready["primed_s"] <= ready["ready_s"]
    page = letter_page().image.convert("RGB")
    response = httpx.post(
        f"{local_server.base_url}/v1/chat/completions",
        json=chat_body(data_uri(encode(page))),
        timeout=290,
    )
    assert response.status_code == 200, response.text
    assert "Dear Mr Whitfield," in response.json()["choices"][0]["message"]["content"]


def _ink_of(page: Image.Image) -> np.ndarray:
    return (np.asarray(page.convert("L")) < 128).astype(np.uint8)


def _text_page(size: int) -> Image.Image:
    page = Image.new("L", (1414, 2000), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=size)
    for row in range(6):
        draw.text((100, 100 + row * 2 * size), "Large type on a page", fill=0, font=font)
    return page


def test_a_page_of_large_type_is_detected_at_half_size() -> None:
    assert detection_scale(_ink_of(_text_page(80))) == MIN_DETECTION_SCALE


def test_a_page_of_small_type_is_detected_at_full_size() -> None:
    assert detection_scale(_ink_of(dense_page().image)) == 1.0


def test_a_blank_page_is_detected_at_full_size() -> None:
    assert detection_scale(_ink_of(Image.new("L", (800, 600), 255))) == 1.0


def test_lines_of_large_type_come_back_whole_from_the_reduced_detection(
    tuned: RapidOcrEngine,
) -> None:
    lines = tuned.read(_text_page(80).convert("RGB")).text.splitlines()
    assert [line for line in lines if line] == ["Large type on a page"] * 6


@pytest.mark.parametrize("degrees", [180, 270])
def test_an_upside_down_page_read_with_its_first_detection_turned_reads_as_detected_again(
    tuned: RapidOcrEngine, degrees: int
) -> None:
    page = turned(letter_page(), degrees).image.convert("RGB")
    detected_again = RapidOcrEngine(turn_detection=False).read(page)
    reused = tuned.read(page)
    assert reused.turned == detected_again.turned == (360 - degrees) % 360
    assert reused.text == detected_again.text
    assert reused.text.splitlines()[0] == "Dear Mr Whitfield,"
