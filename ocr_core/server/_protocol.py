"""The request and response shapes of vLLM's OpenAI-compatible chat API, server side.

Parse and validate a chat request, count and cut tokens, and build the completion, stream
chunk and error bodies. The HTTP app only wires these together. Requests are validated by a
pydantic model with vLLM 0.11.2's field types (`ChatCompletionRequest` in
vllm/entrypoints/openai/protocol.py) and the range checks of its `SamplingParams`, so what
vLLM refuses is refused here with a 400, and what it coerces (`stream: "false"`) is coerced.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ._errors import RequestError, error_body
from ._images import open_image

__all__ = ["ChatRequest", "RequestError", "error_body", "parse_chat_request"]

# The largest request body accepted: a 1540 px page is well under 10 MB in any format.
MAX_BODY_BYTES = 50 * 1024 * 1024
# Image tokens as the LightOnOCR vision encoder counts them: one per 28x28 px (14 px patches,
# merged 2x2), plus the chat template's few tokens.
IMAGE_TOKEN_PIXELS = 28
TEMPLATE_TOKENS = 8
# Choices one request may ask for. vLLM has no cap, but every choice of the local engine is
# the same text, so a huge `n` would only be a way to make the server build a huge answer.
MAX_CHOICES = 16

_TOKEN = re.compile(r"\S+\s*")


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool | None = True
    continuous_usage_stats: bool | None = False


class _ChatCompletionRequest(BaseModel):
    """The fields of vLLM's ChatCompletionRequest the local server reads, with its types.

    Other fields are allowed and ignored, as vLLM allows extra fields.
    """

    model_config = ConfigDict(extra="allow")

    messages: list[dict[str, Any]]
    model: str | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = 1
    stream: bool | None = False
    stream_options: _StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    logprobs: bool | None = False
    top_logprobs: int | None = 0
    seed: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _stream_options_need_stream(cls, data: Any) -> Any:
        # vLLM checks the raw values, before `stream` is coerced to a bool.
        if isinstance(data, dict) and data.get("stream_options") and not data.get("stream"):
            raise ValueError("Stream options can only be defined when `stream=True`.")
        return data


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated chat completion request: the page image and the generation limits."""

    image: Image.Image
    model: str
    max_tokens: int
    stream: bool
    include_usage: bool
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0


def parse_chat_request(body: Any, *, served_model: str, max_model_len: int) -> ChatRequest:
    """Validate a decoded JSON body; raise RequestError with vLLM's status and wording."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    try:
        request = _ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    model = request.model or served_model
    if model != served_model:
        raise RequestError(f"The model `{model}` does not exist.", status=404, param="model")
    n = 1 if request.n is None else request.n
    _check_sampling(request, n)
    max_tokens = _max_tokens(request, max_model_len)
    stream = bool(request.stream)
    options = request.stream_options
    include_usage = bool(options and options.include_usage)
    url = _image_url(request.messages)
    return ChatRequest(
        open_image(url),
        model,
        max_tokens,
        stream,
        include_usage,
        n=n,
        logprobs=bool(request.logprobs),
        top_logprobs=request.top_logprobs or 0,
    )


def _validation_error(exc: ValidationError) -> RequestError:
    """One 400 naming every bad field, as vLLM's RequestValidationError handler does."""
    problems = exc.errors(include_url=False, include_input=False)
    fields = [".".join(str(part) for part in problem["loc"]) for problem in problems]
    message = "; ".join(
        f"{field}: {problem['msg']}" if field else problem["msg"]
        for field, problem in zip(fields, problems, strict=True)
    )
    top = str(problems[0]["loc"][0]) if problems and problems[0]["loc"] else None
    return RequestError(message, param=top)


def _check_sampling(request: _ChatCompletionRequest, n: int) -> None:
    """vLLM's SamplingParams range checks for the fields we accept (a 400 each)."""
    if n < 1:
        raise RequestError(f"n must be at least 1, got {n}.", param="n")
    if n > MAX_CHOICES:
        raise RequestError(
            f"n must be at most {MAX_CHOICES} on the local server, got {n}.", param="n"
        )
    if request.temperature is not None and request.temperature < 0.0:
        raise RequestError(
            f"temperature must be non-negative, got {request.temperature}.", param="temperature"
        )
    if request.top_p is not None and not 0.0 < request.top_p <= 1.0:
        raise RequestError(f"top_p must be in (0, 1], got {request.top_p}.", param="top_p")
    top_logprobs = request.top_logprobs
    if top_logprobs is not None:
        if top_logprobs < 0 and top_logprobs != -1:
            raise RequestError(
                "`top_logprobs` must be a positive value or -1.", param="top_logprobs"
            )
        if (top_logprobs == -1 or top_logprobs > 0) and not request.logprobs:
            raise RequestError(
                "when using `top_logprobs`, `logprobs` must be set to true.",
                param="top_logprobs",
            )


def _max_tokens(request: _ChatCompletionRequest, max_model_len: int) -> int:
    value = request.max_completion_tokens
    if value is None:
        value = request.max_tokens
    if value is None:
        return max_model_len
    if value < 1:
        raise RequestError(f"max_tokens must be at least 1, got {value}.", param="max_tokens")
    if value > max_model_len:
        raise RequestError(
            f"'max_tokens' or 'max_completion_tokens' is too large: {value}. This model's "
            f"maximum context length is {max_model_len} tokens.",
            param="max_tokens",
        )
    return value


def _image_url(messages: list[dict[str, Any]]) -> str:
    if not messages:
        raise RequestError("messages must be a non-empty list", param="messages")
    urls: list[str] = []
    for message in messages:
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, list):
            continue  # system prompts and plain-text content carry no image
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                image_url = part.get("image_url")
                url = image_url.get("url") if isinstance(image_url, dict) else image_url
                if not isinstance(url, str):
                    raise RequestError("image_url.url must be a string", param="messages")
                urls.append(url)
    if not urls:
        raise RequestError(
            "the request holds no image: send one user message with an image_url part",
            param="messages",
        )
    if len(urls) > 1:
        raise RequestError(
            f"At most 1 image(s) may be provided in one prompt; got {len(urls)}.",
            param="messages",
        )
    return urls[0]


def prompt_tokens(size: tuple[int, int]) -> int:
    """Tokens an image of this size takes in the model's prompt (consistent, not exact)."""
    width, height = size
    return math.ceil(width / IMAGE_TOKEN_PIXELS) * math.ceil(height / IMAGE_TOKEN_PIXELS) + (
        TEMPLATE_TOKENS
    )


def tokens(text: str) -> list[str]:
    """Text cut into tokens: each a word with the whitespace after it, so they join back."""
    leading = text[: len(text) - len(text.lstrip())]
    pieces = _TOKEN.findall(text)
    if leading and pieces:
        pieces[0] = leading + pieces[0]
    return pieces


def truncate(text: str, max_tokens: int) -> tuple[list[str], str]:
    """The tokens kept under max_tokens and the finish reason ("length" if any were cut)."""
    pieces = tokens(text)
    if len(pieces) > max_tokens:
        kept = pieces[:max_tokens]
        kept[-1] = kept[-1].rstrip()
        return kept, "length"
    return pieces, "stop"


def new_request_id(base: str | None = None) -> str:
    """vLLM's completion id: `chatcmpl-` and the client's X-Request-Id, or a random one."""
    return f"chatcmpl-{base or uuid.uuid4().hex}"


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_body(
    request_id: str,
    model: str,
    text: str,
    finish_reason: str,
    prompt: int,
    completion: int,
    n: int = 1,
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A non-streamed `chat.completion`, as vLLM returns it; `n` choices of the same text.

    `completion` counts the tokens of one choice; usage counts all of them, as vLLM does.
    """
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": index,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "logprobs": logprobs,
                "finish_reason": finish_reason,
                "stop_reason": None,
            }
            for index in range(n)
        ],
        "usage": usage(prompt, completion * n),
    }


def chunk_body(
    request_id: str,
    model: str,
    created: int,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage_info: dict[str, int] | None = None,
    index: int = 0,
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; the usage-only chunk has no choices, as in OpenAI's API."""
    body: dict[str, Any] = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": []
        if delta is None
        else [
            {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        ],
    }
    if usage_info is not None:
        body["usage"] = usage_info
    return body
