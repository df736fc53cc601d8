"""Token log-probabilities in vLLM's chat-completions shape, from the real server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import openai
import pytest

from ocr_core.server._logprobs import LogprobsError, parse_options
from tests.fakes.local_server import LocalServer

from ._requests import MODEL, blank_page, chat_body, data_uri


def post(server: LocalServer, **extra: object) -> httpx.Response:
    body = chat_body(blank_page(), **extra)
    # A limit, not a speed: the rapidocr engine on a loaded machine can take minutes a page.
    return httpx.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=290)


@pytest.mark.parametrize(
    "body",
    [
        {"logprobs": "yes"},
        {"top_logprobs": -2, "logprobs": True},
        {"top_logprobs": 21, "logprobs": True},
        {"top_logprobs": 3},
    ],
)
def test_logprob_options_vllm_refuses_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(LogprobsError):
        parse_options(body)


def test_logprob_options_default_to_none_wanted() -> None:
    assert parse_options({}) == (False, 0)
    assert parse_options({"logprobs": True, "top_logprobs": -1}) == (True, -1)


def test_without_logprobs_asked_the_choice_has_none(simulated_server: LocalServer) -> None:
    response = post(simulated_server)
    assert response.json()["choices"][0]["logprobs"] is None


def test_asked_logprobs_give_one_entry_per_token_in_vllm_shape(
    simulated_server: LocalServer,
) -> None:
    answer = post(simulated_server, logprobs=True, top_logprobs=2).json()
    choice = answer["choices"][0]
    content = choice["logprobs"]["content"]
    assert len(content) == answer["usage"]["completion_tokens"]
    assert "".join(entry["token"] for entry in content) == choice["message"]["content"]
    for entry in content:
        assert set(entry) == {"token", "logprob", "bytes", "top_logprobs"}
        assert entry["bytes"] == list(entry["token"].encode())
        assert entry["top_logprobs"] == [
            {"token": entry["token"], "logprob": entry["logprob"], "bytes": entry["bytes"]}
        ]


def test_top_logprobs_without_logprobs_is_a_400(simulated_server: LocalServer) -> None:
    response = post(simulated_server, top_logprobs=2)
    assert response.status_code == 400
    assert "logprobs" in response.json()["error"]["message"]


def test_each_streamed_chunk_carries_the_logprob_of_its_token(
    simulated_server: LocalServer,
) -> None:
    body = chat_body(blank_page(), stream=True, logprobs=True)
    with httpx.stream(
        "POST", f"{simulated_server.base_url}/v1/chat/completions", json=body, timeout=60
    ) as response:
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")
        ]
    choices = [event["choices"][0] for event in events if event["choices"]]
    pieces = [choice for choice in choices if choice["delta"].get("content")]
    assert pieces
    for choice in pieces:
        [entry] = choice["logprobs"]["content"]
        assert entry["token"] == choice["delta"]["content"]


def test_the_openai_client_reads_the_recognisers_word_confidence(
    local_server: LocalServer, corpus: Path
) -> None:
    client = openai.OpenAI(base_url=f"{local_server.base_url}/v1", api_key="unused", timeout=180)
    url = data_uri((corpus / "scans" / "phototest.tif").read_bytes(), "image/tiff")
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}],
        logprobs=True,
    )
    choice = completion.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    content = choice.logprobs.content
    assert "".join(t.token for t in content) == choice.message.content
    assert all(t.logprob <= 0.0 for t in content)
    # A clean 200-dpi scan: the recogniser is sure of nearly every word.
    sure = [t for t in content if math.exp(t.logprob) >= 0.8]
    assert len(sure) >= 0.9 * len(content)
