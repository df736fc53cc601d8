"""The local server speaks vLLM's HTTP protocol: health, models, chat completions, errors."""

from __future__ import annotations

import json
import struct
import zlib

import httpx
import pytest
from PIL import Image

from tests.fakes.local_server import LocalServer

from ._requests import MODEL, blank_page, chat_body, data_uri, encode


@pytest.fixture
def http(simulated_server: LocalServer) -> httpx.Client:
    with httpx.Client(base_url=simulated_server.base_url, timeout=30) as client:
        yield client


def test_health_is_200_with_an_empty_body_when_ready(http: httpx.Client) -> None:
    response = http.get("/health")
    assert (response.status_code, response.content) == (200, b"")


def test_models_lists_the_served_model_with_max_model_len(http: httpx.Client) -> None:
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    [card] = body["data"]
    assert card["id"] == MODEL
    assert card["object"] == "model"
    assert card["max_model_len"] == 4096


def test_chat_completion_returns_the_engine_text_with_usage(http: httpx.Client) -> None:
    body = http.post("/v1/chat/completions", json=chat_body(blank_page(120, 80))).json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith("simulated page 120x80")
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_text_parts_beside_the_image_are_ignored(http: httpx.Client) -> None:
    body = chat_body(blank_page(64, 32))
    body["messages"][0]["content"].insert(0, {"type": "text", "text": "Transcribe this."})
    answer = http.post("/v1/chat/completions", json=body).json()
    assert answer["choices"][0]["message"]["content"].startswith("simulated page 64x32")


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("TIFF", "image/tiff"), ("BMP", "image/bmp")],
)
def test_every_page_image_format_is_accepted(http: httpx.Client, fmt: str, mime: str) -> None:

    url = data_uri(encode(Image.new("RGB", (50, 40), "white"), fmt), mime)
    response = http.post("/v1/chat/completions", json=chat_body(url))
    assert response.status_code == 200, response.text
    assert "50x40" in response.json()["choices"][0]["message"]["content"]


def test_tiny_max_tokens_cuts_the_text_with_finish_reason_length(http: httpx.Client) -> None:
    body = http.post("/v1/chat/completions", json=chat_body(blank_page(), max_tokens=2)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "simulated page"
    assert body["usage"]["completion_tokens"] == 2


def _assert_vllm_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == status
    assert error["message"]
    return error["message"]


def test_a_request_without_an_image_is_a_400(http: httpx.Client) -> None:
    message = _assert_vllm_error(http.post("/v1/chat/completions", json=chat_body(None)), 400)
    assert "image" in message


def test_bad_base64_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body("data:image/png;base64,@@not"))
    assert "base64" in _assert_vllm_error(response, 400)


def test_bytes_that_are_not_an_image_are_a_400(http: httpx.Client) -> None:
    url = data_uri(b"%PDF-1.7 definitely not a picture", "image/png")
    response = http.post("/v1/chat/completions", json=chat_body(url))
    assert "not an image" in _assert_vllm_error(response, 400)


def test_a_remote_url_is_refused_rather_than_fetched(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body("http://127.0.0.1:9/page.png"))
    assert "data URI" in _assert_vllm_error(response, 400)


def test_max_tokens_beyond_max_model_len_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body(blank_page(), max_tokens=5000))
    assert "max_tokens" in _assert_vllm_error(response, 400)


def test_an_unknown_model_is_a_404_as_in_vllm(http: httpx.Client) -> None:
    body = chat_body(blank_page(), model="someone/else")
    assert "does not exist" in _assert_vllm_error(http.post("/v1/chat/completions", json=body), 404)


def test_a_body_that_is_not_json_is_a_400(http: httpx.Client) -> None:
    response = http.post(
        "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
    )
    _assert_vllm_error(response, 400)


def test_streaming_sends_chunks_a_final_finish_reason_usage_and_done(http: httpx.Client) -> None:
    body = chat_body(blank_page(120, 80), stream=True, stream_options={"include_usage": True})
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = [line[len("data: ") :] for line in response.iter_lines() if line]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text.startswith("simulated page 120x80")
    finals = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finals[-1] == "stop" and set(finals[:-1]) == {None}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == len(text.split())


def test_streaming_without_include_usage_sends_no_usage_chunk(http: httpx.Client) -> None:
    body = chat_body(blank_page(), stream=True)
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        chunks = [
            json.loads(line[6:]) for line in response.iter_lines() if line[6:] != "[DONE]" and line
        ]
    assert all(chunk["choices"] for chunk in chunks)
    assert all("usage" not in chunk for chunk in chunks)


def test_streamed_chunks_join_to_exactly_the_non_streamed_text(http: httpx.Client) -> None:
    url = blank_page(321, 123)
    plain = http.post("/v1/chat/completions", json=chat_body(url)).json()
    with http.stream("POST", "/v1/chat/completions", json=chat_body(url, stream=True)) as stream:
        chunks = [
            json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: {")
        ]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed == plain["choices"][0]["message"]["content"]


def _png_claiming(width: int, height: int) -> bytes:
    """A real PNG whose header claims another size: a decompression bomb's calling card."""
    data = bytearray(encode(Image.new("1", (8, 8))))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_an_image_claiming_too_many_pixels_is_a_400_before_decoding(http: httpx.Client) -> None:
    url = data_uri(_png_claiming(40_000, 40_000))
    message = _assert_vllm_error(http.post("/v1/chat/completions", json=chat_body(url)), 400)
    assert "pixels" in message or "too large" in message


def test_more_than_one_image_is_a_400_as_with_limit_mm_per_prompt(http: httpx.Client) -> None:
    body = chat_body(blank_page())
    body["messages"][0]["content"].append(body["messages"][0]["content"][0])
    message = _assert_vllm_error(http.post("/v1/chat/completions", json=body), 400)
    assert "At most 1 image" in message


def test_a_truncated_png_is_a_400(http: httpx.Client) -> None:
    whole = encode(Image.new("RGB", (300, 200), "white"))
    response = http.post("/v1/chat/completions", json=chat_body(data_uri(whole[: len(whole) // 2])))
    _assert_vllm_error(response, 400)
