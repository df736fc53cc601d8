"""Waiting for the model to answer, and measuring how long that took.

This only measures. Whether the time was a cold start, and what to tell an operator, is the
caller's decision (the console's `Operations.warm_up`), helped by `WarmUpReport.was_ready`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ._breaker import CircuitBreaker
from ._exceptions import AuthError, NotFound, ProtocolError, ServiceError, ServiceUnavailable
from ._http import ServiceHTTP
from ._models import WarmUpReport
from ._protocol import HEALTH_PATH, MODELS_PATH

# Polls of /health start here, growing by half each time up to the cap: a local server that
# starts in 1 s is seen ready by ~1.2 s, a Cloud Run cold start (minutes) costs a poll every
# 5 s.
FIRST_DELAY_S = 0.25
BACKOFF = 1.5
MAX_DELAY_S = 5.0


async def fetch_models(http: ServiceHTTP, *, timeout: float | None = None) -> list[dict[str, Any]]:
    """GET /v1/models: what the server serves, with vLLM's `max_model_len`."""
    answer = await http.get(MODELS_PATH, timeout=timeout)
    if answer.status_code != 200:
        raise answer.error()
    try:
        data = json.loads(answer.content)["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"/v1/models answer has no data list ({exc!r})") from None
    if not isinstance(data, list):
        raise ProtocolError("/v1/models data is not a list")
    return data


async def warm_up(
    http: ServiceHTTP,
    *,
    model: str,
    breaker: CircuitBreaker,
    base_url: str,
    timeout: float,
    probe_timeout: float,
) -> WarmUpReport:
    """Poll until /health answers 200 and /v1/models lists `model`, or `timeout` passes.

    Ready means the model answers, not that a socket opened. The breaker is not tripped by
    the polls; a ready service closes it. Refused credentials end the wait at once.
    """
    clock = time.monotonic
    started = clock()
    deadline = started + timeout
    delay = FIRST_DELAY_S
    attempts = 0
    while True:
        attempts += 1
        remaining = max(deadline - clock(), 0.25)
        try:
            why_not = await _probe(http, model, min(remaining, probe_timeout))
        except AuthError as exc:
            return WarmUpReport(False, clock() - started, attempts, exc, base_url)
        except ServiceError as exc:
            why_not = exc
        if why_not is None:
            breaker.reset()
            return WarmUpReport(
                True, clock() - started, attempts, None, base_url, was_ready=attempts == 1
            )
        if deadline - clock() <= 0:
            error = _not_ready(why_not, timeout)
            return WarmUpReport(False, clock() - started, attempts, error, base_url)
        await asyncio.sleep(min(delay, deadline - clock()))
        delay = min(delay * BACKOFF, MAX_DELAY_S)


async def _probe(http: ServiceHTTP, model: str, timeout: float) -> ServiceError | None:
    """None when ready, else why not; raises typed errors for failed requests."""
    answer = await http.get(HEALTH_PATH, timeout=timeout)
    if answer.status_code != 200:
        raise answer.error()
    models = await fetch_models(http, timeout=timeout)
    names = [str(entry.get("id")) for entry in models]
    if model not in names:
        return NotFound(f"model {model!r} not served (server lists {names})")
    return None


def _not_ready(last: ServiceError, timeout: float) -> ServiceError:
    """The last probe's error, reworded to say the deadline passed; a wrong model stays a
    NotFound, anything else means the service was unavailable the whole time."""
    message = f"not ready after {timeout:g} s: {last.message}"
    if isinstance(last, NotFound):
        return NotFound(message, status_code=last.status_code)
    return ServiceUnavailable(message, status_code=last.status_code)
