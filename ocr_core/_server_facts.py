"""What the server says about itself in /v1/models, learnt once: its context length (vLLM's
`max_model_len`), and, from our local server, the page size it reads best and how many
requests it runs at once.

A server that cannot say yet (cold, or not vLLM) is asked again after `MODELS_RETRY_S`, so
one early 503 does not pin a guess forever, and pages meanwhile go out with the settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._capacity import Capacity
from ._config import ClientSettings
from ._exceptions import OCRError
from ._protocol import max_model_len, preferred_longest_side, stated_capacity

logger = logging.getLogger(__name__)

# After /v1/models failed, pages go out unclamped for this long before it is asked again.
MODELS_RETRY_S = 30.0

Models = Callable[[], Awaitable[list[dict[str, Any]]]]


class ServerFacts:
    def __init__(self, settings: ClientSettings, models: Models, slots: Capacity) -> None:
        self._settings = settings
        self._models = models
        self._slots = slots
        self.max_tokens: int | None = None
        self.page_side: int | None = None
        self._lock = asyncio.Lock()
        self._failed_at = -MODELS_RETRY_S

    async def learn(self) -> int:
        """settings.max_tokens clamped to the server's max_model_len (learning the other
        facts on the way, and lowering the client's slots to a stated capacity)."""
        settings = self._settings
        async with self._lock:  # uncontended once learnt; one /v1/models at a time
            if self.max_tokens is not None:
                return self.max_tokens
            now = time.monotonic()
            if now - self._failed_at < MODELS_RETRY_S:
                return settings.max_tokens  # asked moments ago: don't queue every page
            try:
                models = await self._models()
            except OCRError as exc:
                logger.debug("cannot read max_model_len yet: %s", exc)
                self._failed_at = now
                return settings.max_tokens
            limit = max_model_len(models, settings.model) or settings.max_tokens
            self.page_side = preferred_longest_side(models, settings.model)
            if (capacity := stated_capacity(models, settings.model)) is not None:
                self._slots.lower_to(capacity)
            self.max_tokens = min(settings.max_tokens, limit)
            return self.max_tokens

    def fits(self, room: int) -> None:
        """A page's image left only `room` tokens: ask no later page for more."""
        self.max_tokens = min(self.max_tokens or room, room)
