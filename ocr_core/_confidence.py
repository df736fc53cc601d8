"""How sure the model was of a page, and where it was not, from its token log-probabilities.

vLLM returns one log-probability per generated token when asked (`logprobs: true`). A page's
confidence is the geometric mean of its tokens' probabilities (exp of the mean log-prob), so
one doubtful word on a long page lowers it a little and many lower it a lot. A word is low
confidence when one of its tokens' probability is under `LOW_CONFIDENCE`; neighbouring low
words merge into one span, given as character offsets into the page text so a viewer can
highlight them. When the tokens do not spell the text (a server that sends byte tokens), the
page keeps its confidence and gets no spans rather than wrong ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ._models import ConfidenceSpan

LOW_CONFIDENCE = 0.5
_WORD = re.compile(r"\S+")


def page_confidence(
    text: str, token_logprobs: Sequence[tuple[str, float]]
) -> tuple[float | None, tuple[ConfidenceSpan, ...]]:
    """(confidence in 0..1 or None without log-probs, the low-confidence spans)."""
    if not token_logprobs:
        return None, ()
    mean = sum(logprob for _token, logprob in token_logprobs) / len(token_logprobs)
    confidence = math.exp(mean)
    if "".join(token for token, _logprob in token_logprobs) != text:
        return confidence, ()
    # The lowest token probability found inside each character position.
    lowest = [1.0] * len(text)
    offset = 0
    for token, logprob in token_logprobs:
        probability = math.exp(logprob)
        for position in range(offset, offset + len(token)):
            lowest[position] = min(lowest[position], probability)
        offset += len(token)
    spans: list[ConfidenceSpan] = []
    for word in _WORD.finditer(text):
        probability = min(lowest[word.start() : word.end()])
        if probability >= LOW_CONFIDENCE:
            continue
        previous = spans[-1] if spans else None
        if previous is not None and not text[previous.end : word.start()].strip():
            spans[-1] = ConfidenceSpan(
                previous.start,
                word.end(),
                text[previous.start : word.end()],
                min(previous.probability, probability),
            )
        else:
            spans.append(ConfidenceSpan(word.start(), word.end(), word.group(), probability))
    return confidence, tuple(spans)


__all__ = ["LOW_CONFIDENCE", "page_confidence"]
