"""A page's answer checked as it arrives: runaway answers asked again, confidence, page size.

Against the fault server, whose "model" can loop, answer nothing, doubt some words and state
a preferred page size, as the issue's tests ask (issues 9 and 12).
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import pytest
from PIL import Image

from ocr_core import ClientSettings, OCRClient
from ocr_core._confidence import page_confidence
from ocr_core._models import ConfidenceSpan
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png


def client(server: FaultServer, **overrides: Any) -> OCRClient:
    settings = ClientSettings(max_attempts=1, **overrides)
    return OCRClient(server.base_url, settings=settings, sleep=RecordingSleep())


def sampling(server: FaultServer) -> list[tuple[float, float | None]]:
    return [
        (r.body["temperature"], r.body.get("repetition_penalty"))
        for r in server.chat_requests()
        if r.body is not None
    ]


async def test_a_looping_answer_is_asked_again_with_other_sampling(server):
    server.script("loop")
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.text == "page #0000ff"
    assert page.rerun_reason == "repetition"
    assert page.attempts == 2
    assert sampling(server) == [(0.2, None), (0.7, 1.1)]


async def test_an_empty_answer_is_asked_again(server):
    server.script("empty")
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert (page.text, page.rerun_reason) == ("page #0000ff", "empty")


async def test_when_the_second_answer_loops_too_the_first_is_kept_and_flagged(server):
    server.script("loop", "loop")
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.text.startswith("page #0000ff\nThank you for your business.")
    assert page.rerun_reason == "repetition"
    assert page.truncated
    assert len(server.chat_requests()) == 2


async def test_a_good_answer_is_not_asked_again(server):
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.rerun_reason is None
    assert len(server.chat_requests()) == 1


async def test_re_running_can_be_switched_off(server):
    server.script("loop")
    async with client(server, rerun_runaway=False) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert page.rerun_reason is None
    assert len(server.chat_requests()) == 1


async def test_a_page_carries_its_confidence_and_its_doubtful_words(server):
    server.faults.doubtful_words = {"#0000ff"}
    async with client(server) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert server.chat_requests()[0].body["logprobs"] is True
    assert page.confidence == pytest.approx(math.exp((-0.01 + math.log(0.1)) / 2))
    assert page.low_confidence == (ConfidenceSpan(5, 12, "#0000ff", pytest.approx(0.1)),)
    assert page.to_dict()["low_confidence"][0]["text"] == "#0000ff"


async def test_without_log_probabilities_confidence_is_unknown(server):
    async with client(server, logprobs=False) as ocr:
        page = await ocr.ocr_image(png("blue"))
    assert "logprobs" not in server.chat_requests()[0].body
    assert (page.confidence, page.low_confidence) == (None, ())


def _sent_size(server: FaultServer) -> tuple[int, int]:
    uri = server.chat_requests()[0].body["messages"][0]["content"][0]["image_url"]["url"]
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size


async def test_pages_are_rendered_at_the_size_the_server_prefers(server):
    server.faults.preferred_longest_side = 800
    async with client(server) as ocr:
        await ocr.ocr_image(png("blue", size=(300, 400)))
    assert max(_sent_size(server)) == 800


async def test_an_explicit_page_size_wins_over_the_servers_preference(server):
    server.faults.preferred_longest_side = 800
    async with client(server, follow_server_page_size=False) as ocr:
        await ocr.ocr_image(png("blue", size=(300, 400)))
    assert max(_sent_size(server)) == 1540


def test_neighbouring_doubtful_words_are_one_span():
    tokens = [("Pay", -0.01), (" 1O0", -3.0), (" EUR", -2.0), (" now", -0.01)]
    _confidence, spans = page_confidence("Pay 1O0 EUR now", tokens)
    assert spans == (ConfidenceSpan(4, 11, "1O0 EUR", pytest.approx(math.exp(-3.0))),)


def test_tokens_that_do_not_spell_the_text_give_no_spans():
    confidence, spans = page_confidence("Pay now", [("Pay", -0.01), ("Ġnow", -3.0)])
    assert confidence is not None and spans == ()


def test_settings_from_the_environment_follow_the_server_unless_a_size_is_set():
    assert ClientSettings.from_env({}).follow_server_page_size
    assert not ClientSettings.from_env({"LIGHTONOCR_LONGEST_SIDE": "1540"}).follow_server_page_size
    assert not ClientSettings.from_env({"LIGHTONOCR_LOGPROBS": "0"}).logprobs
