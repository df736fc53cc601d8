"""The request and response shapes of vLLM's OpenAI-compatible chat API, server side.

Pure functions: parse and validate a chat request, count and cut tokens, and build the
completion, stream chunk and error bodies. The HTTP app only wires these together.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ._logprobs import LogprobsError, parse_options

# The largest request body accepted: a 1540 px page is well under 10 MB in any format.
MAX_BODY_BYTES = 50 * 1024 * 1024
# A pixel cap of our own so a decompression bomb is a 400, never a server out of memory.
MAX_IMAGE_PIXELS = 100_000_000
# Image tokens as the LightOnOCR vision encoder counts them: one per 28x28 px (14 px patches,
# merged 2x2), plus the chat template's few tokens.
IMAGE_TOKEN_PIXELS = 28
TEMPLATE_TOKENS = 8

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?),", re.DOTALL)
_TOKEN = re.compile(r"\S+\s*")


class RequestError(Exception):
    """A request the server refuses, with vLLM's error type and HTTP status."""

    def __init__(
        self, message: str, *, status: int = 400, param: str | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.kind = kind or ("NotFoundError" if status == 404 else "BadRequestError")


def error_body(message: str, kind: str, status: int, param: str | None = None) -> dict[str, Any]:
    """vLLM's ErrorResponse: `{"error": {"message", "type", "param", "code"}}`, code = status."""
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated chat completion request: the page image and the generation limits."""

    image: Image.Image
    model: str
    max_tokens: int
    stream: bool
    include_usage: bool
    logprobs: bool = False  # vLLM's `logprobs`: token log-probabilities in the answer
    top_logprobs: int = 0


def parse_chat_request(body: Any, *, served_model: str, max_model_len: int) -> ChatRequest:
    """Validate a decoded JSON body; raise RequestError with vLLM's status and wording."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    model = body.get("model") or served_model
    if model != served_model:
        raise RequestError(f"The model `{model}` does not exist.", status=404, param="model")
    max_tokens = _max_tokens(body, max_model_len)
    stream = bool(body.get("stream", False))
    options = body.get("stream_options") or {}
    if options and not stream:
        raise RequestError("Stream options can only be defined when `stream=True`.")
    include_usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
    try:
        logprobs, top_logprobs = parse_options(body)
    except LogprobsError as exc:
        raise RequestError(str(exc), param="logprobs") from None
    url = _image_url(body.get("messages"))
    return ChatRequest(
        decode_image(url), model, max_tokens, stream, include_usage, logprobs, top_logprobs
    )


def _max_tokens(body: dict[str, Any], max_model_len: int) -> int:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    if value is None:
        return max_model_len
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError("max_tokens must be an integer of at least 1", param="max_tokens")
    if value > max_model_len:
        raise RequestError(
            f"'max_tokens' or 'max_completion_tokens' is too large: {value}. This model's "
            f"maximum context length is {max_model_len} tokens.",
            param="max_tokens",
        )
    return value


def _image_url(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages must be a non-empty list", param="messages")
    urls: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            raise RequestError("each message must be an object", param="messages")
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


def decode_image(url: str) -> Image.Image:
    """A `data:image/...;base64,...` URI -> a PIL image (first frame), checked, not decoded.

    The header and the file structure are checked here (`verify` walks PNG chunks and
    their checksums without inflating pixels); the pixels are decoded by the engine in its
    worker thread, inside the request's slot. The request path stays cheap, and the
    simulated engine, whose cost is its fixed service time, never pays for decoding.
    """
    match = _DATA_URI.match(url)
    if not match:
        raise RequestError(
            "image_url must be a data URI (data:image/png;base64,...); "
            "the local server fetches no URLs",
            param="messages",
        )
    mime = match.group("mime") or ""
    if mime and not mime.startswith("image/"):
        raise RequestError(f"the data URI holds {mime}, not an image", param="messages")
    if "base64" not in match.group("params").split(";"):
        raise RequestError("the image data URI must be base64-encoded", param="messages")
    try:
        data = base64.b64decode(url[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("the image data is not valid base64", param="messages") from None
    if not data:
        raise RequestError("the image data is empty", param="messages")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.open(io.BytesIO(data)).verify()
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RequestError(f"the image is too large: {exc}", param="messages") from None
    except Exception as exc:  # PIL raises many types for corrupt or unknown data
        raise RequestError(
            f"the data is not an image PIL can read ({type(exc).__name__})", param="messages"
        ) from None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise RequestError(
            f"the image has {image.width}x{image.height} pixels, more than "
            f"{MAX_IMAGE_PIXELS} allowed",
            param="messages",
        )
    return image


def undecodable(exc: Exception) -> RequestError | None:
    """The 400 for pixel data that passed the header checks but will not decode, if it is one.

    PIL reports truncated or corrupt image data as OSError (or SyntaxError in old plugins).
    """
    if isinstance(exc, OSError | SyntaxError):
        return RequestError(
            f"the image data is corrupt or truncated ({type(exc).__name__}: {exc})",
            param="messages",
        )
    return None


def prompt_tokens(image: Image.Image) -> int:
    """Tokens the image would take in the model's prompt (consistent, not exact)."""
    width, height = image.size
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


def new_request_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


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
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A non-streamed `chat.completion`, as vLLM returns it."""
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "logprobs": logprobs,
                "finish_reason": finish_reason,
                "stop_reason": None,
            }
        ],
        "usage": usage(prompt, completion),
    }


def chunk_body(
    request_id: str,
    model: str,
    created: int,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage_info: dict[str, int] | None = None,
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
        else [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}],
    }
    if usage_info is not None:
        body["usage"] = usage_info
    return body
