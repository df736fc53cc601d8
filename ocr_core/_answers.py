"""What one page's answer may hold: no more text than its `max_tokens` allows, valid Unicode.

The bound. A model stops at `max_tokens`, and a token decodes to a few bytes of text: the
vocabularies of byte-level BPE tokenizers (GPT-2's lineage, Qwen's among them, which
LightOnOCR-2 reads with) hold tokens of one to a few dozen bytes, their longest being runs
of spaces or of one symbol. `MAX_BYTES_PER_TOKEN` is 256: past any such token, so a real
answer never reaches the bound (a page of 4,096 tokens is ~16 KB of text; the bound at
4,096 tokens is 1 Mi characters), and a character is at least one byte, so counting
characters (cheap: `len`) is counting no more than bytes. An answer past it comes from a
server that does not honour the request (one that streams forever, or a hostile one): it is
`AnswerTooLarge`, raised as soon as the text outgrows the bound, so a stream is never held
whole. Log-probabilities are bounded alike: one entry per token, at most `max_tokens`.

Unicode. JSON can carry a lone surrogate (`\\ud800`), which Python decodes into a str that
no UTF-8 writer accepts: a database, a log line, zlib in the runaway check would each fail
on it later, far from the answer. Each piece of text is repaired as it is decoded: a lone
surrogate becomes U+FFFD (the replacement character), as a UTF-8 decoder does with bytes
that are not text. A pair split across two deltas is two lone halves: both are replaced.
"""

from __future__ import annotations

import re

from ._exceptions import AnswerTooLarge

MAX_BYTES_PER_TOKEN = 256

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def answer_text_limit(max_tokens: int) -> int:
    """The most characters an answer of `max_tokens` tokens can hold."""
    return max(1, max_tokens) * MAX_BYTES_PER_TOKEN


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    if text.isascii():
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


class AnswerBudget:
    """Counts an answer's text and tokens as they come, and refuses the piece that would
    take it past what `max_tokens` allows (`None`: the answer is not bounded)."""

    def __init__(self, max_tokens: int | None) -> None:
        self.max_tokens = max_tokens
        self.chars = 0
        self.tokens = 0
        self.token_chars = 0

    def add_text(self, text: str) -> None:
        self.chars += len(text)
        self._check(self.chars, "characters")

    def add_tokens(self, tokens: tuple[tuple[str, float], ...]) -> None:
        self.tokens += len(tokens)
        self.token_chars += sum(len(token) for token, _ in tokens)
        if self.max_tokens is not None and self.tokens > self.max_tokens:
            raise AnswerTooLarge(
                f"the answer has more than the {self.max_tokens:,} tokens asked for "
                "(max_tokens): the server does not honour the request"
            )
        self._check(self.token_chars, "characters of tokens")

    def _check(self, count: int, what: str) -> None:
        if self.max_tokens is None:
            return
        limit = answer_text_limit(self.max_tokens)
        if count > limit:
            raise AnswerTooLarge(
                f"the answer has more than the {limit:,} {what} that {self.max_tokens:,} "
                f"tokens can hold (max_tokens x {MAX_BYTES_PER_TOKEN} bytes): the server "
                "does not honour the request"
            )


__all__ = ["MAX_BYTES_PER_TOKEN", "AnswerBudget", "answer_text_limit", "valid_text"]
