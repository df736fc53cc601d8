"""Request fields are checked as vLLM 0.11.2 checks them, and every refusal is its JSON error.

vLLM validates with pydantic in lax mode (`stream: "false"` becomes False, a number in a
string is a number) and then applies SamplingParams' range checks; see issue 10, row L3.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.local_server import LocalServer

from ._requests import blank_page, chat_body

CHAT = "/v1/chat/completions"


@pytest.fixture
def http(simulated_server: LocalServer) -> httpx.Client:
    with httpx.Client(base_url=simulated_server.base_url, timeout=30) as client:
        yield client


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == status
    return error


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("temperature", "hot"),
        ("temperature", -0.5),
        ("top_p", 5),
        ("top_p", 0),
        ("n", 0),
        ("n", 2.5),
        ("stream", "maybe"),
        ("max_tokens", 0),
        ("max_tokens", "many"),
        ("top_logprobs", 3),  # without logprobs: true
        ("messages", "a page"),
    ],
)
def test_a_field_vllm_refuses_is_a_400_naming_it(http: httpx.Client, field: str, bad: Any) -> None:
    body = {**chat_body(blank_page()), field: bad}
    error = _error(http.post(CHAT, json=body), 400)
    assert field in error["message"] or error["param"] == field


def test_stream_as_the_string_false_is_coerced_to_false_as_vllm_does(http: httpx.Client) -> None:
    """L3: `stream: "false"` used to stream (bool("false") is True)."""
    response = http.post(CHAT, json=chat_body(blank_page(), stream="false"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["object"] == "chat.completion"


def test_n_choices_are_all_answered(http: httpx.Client) -> None:
    """L3: `n: 5` used to be ignored (one choice)."""
    body = http.post(CHAT, json=chat_body(blank_page(), n=3, max_tokens=2)).json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert {choice["message"]["content"] for choice in body["choices"]} == {"simulated page"}
    assert body["usage"]["completion_tokens"] == 6


def test_n_choices_stream_each_with_its_index(http: httpx.Client) -> None:
    body = chat_body(blank_page(), n=2, stream=True, max_tokens=2)
    with http.stream("POST", CHAT, json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    finishes = [line for line in lines if '"finish_reason":"length"' in line.replace(" ", "")]
    assert len(finishes) == 2
    assert '"index": 1' in lines[-1] or '"index":1' in lines[-1]


def test_sampling_fields_in_range_are_accepted(http: httpx.Client) -> None:
    body = chat_body(blank_page(), temperature="0.2", top_p=0.9, seed=7, logprobs=True)
    assert http.post(CHAT, json=body).status_code == 200


def test_an_unknown_route_is_vllms_json_404(http: httpx.Client) -> None:
    """L3: unknown routes answered a plain-text 404."""
    error = _error(http.get("/v1/nowhere"), 404)
    assert error["message"] == "Not Found"


def test_a_wrong_method_is_vllms_json_405_with_allow(http: httpx.Client) -> None:
    response = http.get(CHAT)
    assert _error(response, 405)["message"] == "Method Not Allowed"
    assert response.headers["allow"] == "POST"
