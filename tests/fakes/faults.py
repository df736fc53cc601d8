"""What the fault server can be told to do wrong, what it records of each request, and which
page a request is for."""

from __future__ import annotations

import base64
import io
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

# Script steps for chat requests, consumed one per request before normal service resumes.
FAULTS = (
    # Normal service: holds a place in a script, for a fault on a later request.
    "ok",
    "503",
    "502",
    "504",
    "500",
    "400",
    "404",
    "413",
    "401",
    "429",
    "reset",
    "malformed",
    "slow",
    # A 401 whose message quotes the Authorization header it got, as some proxies do.
    "leaky401",
    # A 200 whose body trickles out one byte every `trickle_interval_s`, never finishing.
    "trickle",
    # A streamed answer whose first line never ends (up to 400 MB): `sent_bytes` counts it.
    "endless_line",
    # A streamed answer that stops after its first chunk and never finishes.
    "stall",
    # A streamed answer that is vLLM's error event for a rejected request (code 400).
    "stream_400",
    # Cloud Run's front end with no instance for the request: a plain-text 500.
    "no_instance",
    # Google's front end failing on its own: its HTML "Error: Server Error" page, a 500.
    "front_end_500",
    # A completion whose usage.prompt_tokens is "lots".
    "bad_usage",
    # A generation loop: the page's text, then one line repeated until max_tokens.
    "loop",
    # A completion with no text at all.
    "empty",
    # A long page within the bound: 200,000 characters in 1,001 tokens.
    "long",
    # A streamed answer of deltas that never ends (up to `endless_bytes`): `sent_bytes`.
    "endless_deltas",
    # A streamed answer with a lone surrogate (the JSON escape \ud800) in one delta.
    "surrogate",
    # The same as plain JSON (not streamed, as a server may answer anyway).
    "surrogate_json",
)


@dataclass
class RequestRecord:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float


@dataclass
class Faults:
    """What the server does wrong. Tests set these fields directly (between requests)."""

    # Answer 503 on every endpoint until this monotonic time.
    cold_until: float = 0.0
    # Hold every request unanswered until this monotonic time, then serve it: what Cloud Run's
    # front end does with requests to a service scaled to zero while an instance starts.
    held_until: float = 0.0
    # Chat answers take this long.
    delay_s: float = 0.0
    # One entry consumed per chat request: e.g. "503", "429", "reset", "malformed", "slow".
    script: deque[str] = field(default_factory=deque)
    retry_after: str | None = None
    finish_reason: str = "stop"
    # Only these bearer tokens are accepted (None: no auth check).
    accept_tokens: set[str] | None = None
    # Pages whose centre pixel rounds to this colour get a 500 (or `fail_colour_status`).
    fail_colour: str | None = None
    fail_colour_status: int = 500
    max_model_len: int = 16384
    # What every page image costs in prompt tokens; like vLLM, prompt + max_tokens must fit.
    prompt_tokens: int = 100
    trickle_interval_s: float = 2.0
    # Words the "model" is unsure of: their tokens get log-prob ln(0.1) when logprobs are asked.
    doubtful_words: set[str] = field(default_factory=set)
    # Listed in /v1/models as ours (not vLLM's) preferred_longest_side, when set.
    preferred_longest_side: int | None = None
    # Listed in /v1/models as ours (not vLLM's) max_num_seqs, when set.
    max_num_seqs: int | None = None
    # Where the "endless_deltas" answer stops if its client never hangs up.
    endless_bytes: int = 1 << 30
    # Chat requests answered 503 "the engine is still loading" (as the local server answers
    # while its engine loads) before normal service: one consumed per chat request.
    loading_requests: int = 0
    # Chat requests past the first `answer_limit` (in order of arrival) wait unanswered until
    # it is raised or set to None: a test sets a reader's pace, page by page.
    answer_limit: int | None = None


def _round(channel: int) -> int:
    return min(255, round(channel / 51) * 51)


def page_colour(data_uri: str) -> str:
    """The page's centre pixel as #rrggbb, rounded to web-safe steps (survives JPEG)."""
    encoded = data_uri.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        rgb = image.convert("RGB")
        r, g, b = rgb.getpixel((rgb.width // 2, rgb.height // 2))  # type: ignore[misc]
    return f"#{_round(r):02x}{_round(g):02x}{_round(b):02x}"
