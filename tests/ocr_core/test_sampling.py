"""Sampling chosen for one page: validated, sent as chosen, and kept as answered."""

from __future__ import annotations

import pytest

from ocr_core import ClientSettings, OCRClient, Sampling, load_document
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import RecordingSleep, png


@pytest.mark.parametrize(
    "bad",
    [{"temperature": -0.1}, {"temperature": 2.5}, {"repetition_penalty": 0.0}, {"max_tokens": 0}],
)
def test_sampling_out_of_range_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Sampling(**bad)  # type: ignore[arg-type]


def test_a_choice_overrides_only_what_it_sets_and_never_raises_max_tokens() -> None:
    assert Sampling(temperature=0.9).over(0.2, None, 4096) == (0.9, None, 4096)
    assert Sampling(max_tokens=9000, repetition_penalty=1.2).over(0.2, None, 4096) == (
        0.2,
        1.2,
        4096,
    )
    assert Sampling(temperature=0.0).to_dict() == {"temperature": 0.0}


async def test_a_page_asked_with_chosen_sampling_is_not_re_run_when_it_loops() -> None:
    with FaultServer() as server:
        server.script("loop")
        settings = ClientSettings(max_attempts=1)
        async with OCRClient(server.base_url, settings=settings, sleep=RecordingSleep()) as ocr:
            with load_document(png("white")) as document:
                chosen = Sampling(temperature=1.0, repetition_penalty=1.05, max_tokens=300)
                result = await ocr.ocr_page(document, 0, sampling=chosen)
        [request] = server.chat_requests()
    assert result.rerun_reason is None and "Thank you" in result.text
    body = request.body
    assert (body["temperature"], body["repetition_penalty"], body["max_tokens"]) == (
        1.0,
        1.05,
        300,
    )
