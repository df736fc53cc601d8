"""vLLM's OpenAI-compatible chat protocol: the request we send and the answers we accept.

Kept free of I/O so the shapes can be read (and tested) in one place; the client does the HTTP.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._answers import AnswerBudget, valid_text
from ._exceptions import (
    AuthError,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    ServiceError,
    ServiceUnavailable,
    error_class_for_status,
    redact,
)

# The endpoints, as vLLM's OpenAI-compatible server (and the local server) spell them.
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"

# Server messages are echoed into our errors; a runaway HTML error page must not flood logs.
_MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Completion:
    """What one chat completion gave back for one page."""

    text: str
    finish_reason: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # (token, log-probability) per generated token when logprobs were asked for and sent.
    token_logprobs: tuple[tuple[str, float], ...] = ()

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


def chat_request(
    data_uri: str,
    *,
    model: str,
    max_tokens: int,
    temperature: float,
    top_p: float,
    stream: bool = False,
    logprobs: bool = False,
    repetition_penalty: float | None = None,
) -> dict[str, Any]:
    """The model card's request: the page image alone, no system or text prompt.

    LightOnOCR echoes prompts it is given, so the user message holds nothing but the image.
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_uri}}]}
        ],
        "max_tokens": max_tokens,
        "temperature": temperature,
        "top_p": top_p,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if logprobs:
        body["logprobs"] = True  # vLLM: one log-probability per generated token
    if repetition_penalty is not None:
        body["repetition_penalty"] = repetition_penalty  # a vLLM sampling extension
    return body


def _decode_json(content: bytes | str, what: str) -> Any:
    try:
        return json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{what} is not valid JSON ({exc})") from None


def parse_completion(content: bytes | str, max_tokens: int | None = None) -> Completion:
    """A non-streamed chat completion body -> Completion, or ProtocolError if it is not one
    (`AnswerTooLarge` when it holds more than `max_tokens` allow; see _answers.py)."""
    body = _decode_json(content, "chat completion response")
    try:
        choice = body["choices"][0]
        text = choice["message"].get("content") or ""
        finish_reason = _finish_reason(choice.get("finish_reason"))
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ProtocolError(
            f"chat completion response has no choices[0].message ({exc!r})"
        ) from None
    if not isinstance(text, str):
        raise ProtocolError("chat completion content is not a string")
    text = valid_text(text)
    prompt_tokens, completion_tokens = _usage(body)
    logprobs = _token_logprobs(choice.get("logprobs"))
    budget = AnswerBudget(max_tokens)
    budget.add_text(text)
    budget.add_tokens(logprobs)
    return Completion(text, finish_reason, prompt_tokens, completion_tokens, logprobs)


def _finish_reason(value: Any) -> str | None:
    """vLLM's "stop" / "length" / ...; kept as said, so it must be a short string."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"finish_reason is not a string ({type(value).__name__})")
    return valid_text(value)[:40]


def _token_logprobs(logprobs: Any) -> tuple[tuple[str, float], ...]:
    """vLLM's `choices[].logprobs.content[] = {token, logprob, ...}`; () when absent.

    Confidence is a bonus, never a reason to lose a page: entries that are not in that shape
    make the whole answer's confidence unknown rather than an error.
    """
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return ()
    pairs = []
    for entry in content:
        token = entry.get("token") if isinstance(entry, dict) else None
        value = entry.get("logprob") if isinstance(entry, dict) else None
        if not isinstance(token, str) or isinstance(value, bool):
            return ()
        if not isinstance(value, int | float) or value != value or value > 0:
            return ()
        pairs.append((valid_text(token), float(value)))
    return tuple(pairs)


def _usage(body: Any) -> tuple[int, int]:
    """(prompt, completion) tokens; missing counts are 0, nonsense ones a ProtocolError."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if usage is None:
        return 0, 0
    if not isinstance(usage, dict):
        raise ProtocolError(f"usage is not an object ({type(usage).__name__})")
    return _token_count(usage, "prompt_tokens"), _token_count(usage, "completion_tokens")


def _token_count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ProtocolError(f"usage.{key} is not a token count ({redact(repr(value))[:40]})")


class StreamAccumulator:
    """Folds server-sent events of a streamed completion into deltas and a final Completion.

    vLLM sends `data: {chunk}` lines, a final usage-only chunk when asked
    (`stream_options.include_usage`), then `data: [DONE]`. Text and tokens are counted as
    they come: past what `max_tokens` allows is `AnswerTooLarge` (see _answers.py).
    """

    def __init__(self, max_tokens: int | None = None) -> None:
        self._budget = AnswerBudget(max_tokens)
        self._parts: list[str] = []
        self._finish_reason: str | None = None
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._logprobs: list[tuple[str, float]] = []
        self.done = False

    def feed_line(self, line: str) -> str:
        """Consume one SSE line; return the text it adds (possibly empty)."""
        line = line.strip()
        if not line.startswith("data:"):
            return ""  # blank separators, comments, event names
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            self.done = True
            return ""
        chunk = _decode_json(payload, "stream chunk")
        if isinstance(chunk, dict) and "error" in chunk:
            raise error_from_body(_stream_error_status(chunk), chunk)
        prompt, completion = _usage(chunk)
        if prompt or completion:
            self._prompt_tokens, self._completion_tokens = prompt, completion
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        if not choices:
            return ""
        try:
            choice = choices[0]
            delta = (choice.get("delta") or {}).get("content") or ""
        except (AttributeError, TypeError, IndexError) as exc:
            raise ProtocolError(f"stream chunk has no choices[0].delta ({exc!r})") from None
        if not isinstance(delta, str):
            raise ProtocolError("stream chunk content is not a string")
        tokens = _token_logprobs(choice.get("logprobs"))
        self._budget.add_tokens(tokens)
        self._logprobs.extend(tokens)
        if choice.get("finish_reason"):
            self._finish_reason = _finish_reason(choice["finish_reason"])
        if delta:
            delta = valid_text(delta)
            self._budget.add_text(delta)
            self._parts.append(delta)
        return delta

    def result(self) -> Completion:
        if not self.done and self._finish_reason is None:
            raise ProtocolError("stream ended before the completion finished")
        return Completion(
            "".join(self._parts),
            self._finish_reason,
            self._prompt_tokens,
            self._completion_tokens,
            tuple(self._logprobs),
        )


def _stream_error_status(chunk: dict[str, Any]) -> int:
    """The HTTP status an error sent after the headers stands for (vLLM puts it in `code`)."""
    error = chunk.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) and 400 <= code <= 599 else 500


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_message(body: Any) -> str | None:
    """vLLM's `{"error": {"message", ...}}`, its older flat `{"object": "error", "message"}`,
    or Starlette's `{"detail": ...}`."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        return valid_text(str(error["message"]))
    if isinstance(error, str):
        return valid_text(error)
    for key in ("message", "detail"):
        if body.get(key):
            return valid_text(str(body[key]))
    return None


def error_from_body(
    status_code: int, body: Any, headers: Mapping[str, str] | None = None
) -> ServiceError:
    """Map an HTTP error answer to our typed error; retryability follows from the type.

    The server's message is echoed with any credential in it redacted (a proxy may quote the
    Authorization header it refused) and cut short (an HTML error page must not flood logs).
    """
    headers = headers or {}
    message = redact(_error_message(body) or f"HTTP {status_code}")[:_MAX_MESSAGE_CHARS]
    retry_after = parse_retry_after(headers.get("retry-after"))
    kind = error_class_for_status(status_code)
    what = _WHAT.get(kind, "service error")
    return kind(
        f"{what} (HTTP {status_code}): {message}",
        status_code=status_code,
        retry_after_s=retry_after,
    )


# How each class words its message; the server's own message follows.
_WHAT: dict[type[ServiceError], str] = {
    AuthError: "not authorised",
    BadRequest: "request rejected",
    PayloadTooLarge: "request rejected",
    NotFound: "not found (wrong service URL or model?)",
    RateLimited: "rate limited",
    RequestTimeout: "the server timed out",
    ServiceUnavailable: "service unavailable",
}


def error_from_response(
    status_code: int, content: bytes, headers: Mapping[str, str] | None = None
) -> ServiceError:
    try:
        body: Any = json.loads(content) if content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = content.decode("utf-8", "replace").strip()
        if status_code == 500:
            # Not vLLM (whose 500s are JSON, an engine fault on this page and not re-sent):
            # Cloud Run's or Google's front end, as its "no available instance" text or its
            # HTML "Error: Server Error" page. Transient: a 503 in meaning, retried with
            # backoff (see deploy/README.md).
            status_code = 503
        body = {"message": text} if content else None
    return error_from_body(status_code, body, headers)


# The local server's 503 while its engine loads ("the engine is still loading"): a server
# starting, whose requests wait in the admission phase (ocr_core/_http.py).
_LOADING = re.compile(r"\bstill loading\b", re.IGNORECASE)


def says_loading(content: bytes) -> bool:
    """Whether a 503's body says the engine is still loading (not failing: starting)."""
    try:
        body: Any = json.loads(content) if content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return bool(_LOADING.search(_error_message(body) or ""))


# vLLM's 400 when prompt + max_tokens exceed the context, in its current and older wording:
# "... maximum context length is 4096 tokens and your request has 2778 input tokens ..."
# "... maximum context length is 4096 tokens. However, you requested 5000 tokens (2000 in
# the messages, 3000 in the completion) ..."
_CONTEXT_LENGTH = re.compile(r"maximum context length is (\d+) tokens")
_INPUT_TOKENS = re.compile(r"(\d+) input tokens|\((\d+) in the messages")


def completion_room(message: str) -> int | None:
    """The max_tokens that would fit, when a 400 says the requested one overflows the context.

    The image's prompt tokens are only known to the server, so this is how the client learns
    them: max_model_len 4096 with max_tokens 4096 leaves no room for a page at all.
    """
    context = _CONTEXT_LENGTH.search(message)
    prompt = _INPUT_TOKENS.search(message)
    if not context or not prompt:
        return None
    room = int(context.group(1)) - int(prompt.group(1) or prompt.group(2))
    return room if room > 0 else None


def preferred_longest_side(models: list[dict[str, Any]], model: str) -> int | None:
    """The page size the server reads best, when it says (our local server does; vLLM not)."""
    for entry in models:
        side = entry.get("preferred_longest_side")
        if entry.get("id") == model and isinstance(side, int) and 256 <= side <= 10_000:
            return side
    return None


def max_model_len(models: list[dict[str, Any]], model: str) -> int | None:
    """The context length the server allows for `model` (vLLM lists it in /v1/models)."""
    for entry in models:
        if entry.get("id") == model and entry.get("max_model_len"):
            return int(entry["max_model_len"])
    return None


def stated_capacity(models: list[dict[str, Any]], model: str) -> int | None:
    """How many requests the server runs at once, when it says (`max_num_seqs` in its model
    entry: our local server states it; vLLM keeps --max-num-seqs to itself)."""
    for entry in models:
        slots = entry.get("max_num_seqs")
        if entry.get("id") == model and isinstance(slots, int) and 1 <= slots <= 4096:
            return slots
    return None
