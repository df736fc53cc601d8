"""Token log-probabilities in vLLM's chat-completions shape, from the engine's word scores.

vLLM answers `logprobs: true` with `choices[0].logprobs = {"content": [{"token", "logprob",
"bytes", "top_logprobs": [...]}, ...]}` (ChatCompletionLogProbs in vLLM 0.11.2's
entrypoints/openai/protocol.py), one entry per generated token, and the same per chunk when
streaming. The local server's tokens are words with their trailing whitespace (see
`_protocol.tokens`), and a word's log-probability is the recogniser's (see `_recognize`).
The recogniser offers one reading per word, so `top_logprobs` lists that reading alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# vLLM's default --max-logprobs; OpenAI allows 0-20 as well.
MAX_TOP_LOGPROBS = 20
# vLLM clamps log-probabilities to this floor.
FLOOR = -9999.0


class LogprobsError(ValueError):
    """A `logprobs`/`top_logprobs` pair vLLM would refuse with a 400."""


def parse_options(body: dict[str, Any]) -> tuple[bool, int]:
    """`(logprobs, top_logprobs)` from a request body, checked as vLLM checks them."""
    wanted = body.get("logprobs")
    if wanted is None:
        wanted = False
    if not isinstance(wanted, bool):
        raise LogprobsError("`logprobs` must be a boolean")
    top = body.get("top_logprobs")
    if top is None:
        top = 0
    if isinstance(top, bool) or not isinstance(top, int) or (top < 0 and top != -1):
        raise LogprobsError("`top_logprobs` must be a positive value or -1.")
    if top > MAX_TOP_LOGPROBS:
        raise LogprobsError(f"`top_logprobs` is {top}, more than the maximum of {MAX_TOP_LOGPROBS}")
    if top and not wanted:
        raise LogprobsError("when using `top_logprobs`, `logprobs` must be set to true.")
    return wanted, top


def entry(token: str, logprob: float, top: int) -> dict[str, Any]:
    """One ChatCompletionLogProbsContent."""
    value = max(float(logprob), FLOOR)
    data = list(token.encode("utf-8", errors="replace"))
    alternatives = [{"token": token, "logprob": value, "bytes": data}] if top else []
    return {"token": token, "logprob": value, "bytes": data, "top_logprobs": alternatives}


def content(
    pieces: Sequence[str], word_logprobs: Sequence[float], top: int
) -> dict[str, list[dict[str, Any]]]:
    """ChatCompletionLogProbs for `pieces` (the tokens sent); a token without a score from
    the engine counts as certain (0.0), as the simulated engine's do."""
    return {
        "content": [
            entry(piece, word_logprobs[i] if i < len(word_logprobs) else 0.0, top)
            for i, piece in enumerate(pieces)
        ]
    }
