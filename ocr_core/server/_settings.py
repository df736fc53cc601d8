"""What `python -m ocr_core.server` takes on its command line, checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._images import MAX_DECODE_SIDE

DEFAULT_MODEL_NAME = "lightonai/LightOnOCR-2-1B"
# Requests that may wait for a slot by default, however few the slots: two clients sending
# vLLM's 8 at once are not turned away.
MIN_WAITING = 16


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The server's engine, limits and timeouts.

    `max_waiting` requests may wait for a slot beyond the `max_num_seqs` running (None: twice
    `max_num_seqs`, at least `MIN_WAITING`); more are refused with 429 and Retry-After.
    `header_timeout` and `body_timeout` bound how long a client may take to send its request.
    """

    engine: str = "rapidocr"
    served_model_name: str = DEFAULT_MODEL_NAME
    max_model_len: int = 4096
    max_num_seqs: int = 8
    service_time: float = 0.5  # simulated engine only
    startup_delay: float = 0.0
    engine_threads: int | None = None  # rapidocr only: cores one page may use (None: all)
    max_waiting: int | None = None
    max_image_side: int = MAX_DECODE_SIDE
    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1:
            raise ValueError("max_num_seqs must be at least 1")
        if self.max_model_len < 1:
            raise ValueError("max_model_len must be at least 1")
        if self.startup_delay < 0:
            raise ValueError("startup_delay must be >= 0")
        if self.max_waiting is not None and self.max_waiting < 0:
            raise ValueError("max_waiting must be >= 0")
        if self.max_image_side < 28:
            raise ValueError("max_image_side must be at least 28 px")
        if not (self.header_timeout > 0 and self.body_timeout > 0):
            raise ValueError("header_timeout and body_timeout must be > 0")

    @property
    def waiting_limit(self) -> int:
        """Waiting requests hold only their bodies (within the body budget), so room for a
        few clients' worth even when the CPU engine runs one page per core."""
        if self.max_waiting is not None:
            return self.max_waiting
        return max(MIN_WAITING, 2 * self.max_num_seqs)

    def engine_kwargs(self) -> dict[str, Any]:
        """The options `load_engine` takes for the chosen engine."""
        if self.engine == "simulated":
            return {"service_time": self.service_time}
        if self.engine == "rapidocr" and self.engine_threads:
            return {"threads": self.engine_threads}
        return {}
