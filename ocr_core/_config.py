"""Settings, with environment variables as documented defaults.

| variable                | default                                                      |
| ----------------------- | ------------------------------------------------------------ |
| LIGHTONOCR_SERVICE_URL  | none -> http://127.0.0.1:8000                                |
| LIGHTONOCR_MODEL        | lightonai/LightOnOCR-2-1B (serve_config.MODEL_ID)            |
| LIGHTONOCR_ADMISSION_TIMEOUT_S | 360: until the service takes a request (a cold start)  |
| LIGHTONOCR_QUEUE_TIMEOUT_S | 600: from then until its answer begins (queued at the service) |
| LIGHTONOCR_TIMEOUT_S    | 120: the longest silence in an answer once it has begun      |
| LIGHTONOCR_ATTEMPT_TIMEOUT_S | admission + queue + 240 (1200): one attempt, end to end |
| LIGHTONOCR_CONCURRENCY  | 8 (vLLM --max-num-seqs), fewer if the server says it runs fewer |
| LIGHTONOCR_MAX_TOKENS   | 4096 (model card)                                            |
| LIGHTONOCR_MAX_ATTEMPTS | 3                                                            |
| LIGHTONOCR_AUTH         | auto: google for *.run.app, else bearer/none                 |
| LIGHTONOCR_TOKEN        | static bearer / pre-minted ID token (fallback)               |
| LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT | none: mint ID tokens as this service account  |
| LIGHTONOCR_MAX_PAGES    | 1000                                                         |
| LIGHTONOCR_LONGEST_SIDE | 1540                                                         |

The model id and the serving limits come from `gpu_image/serve_config.py`, the one place the
served model's flags live (standard library only, so the base install imports it too).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gpu_image.serve_config import DEFAULT_PORT, MAX_NUM_SEQS, MODEL_ID

DEFAULT_LOCAL_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
DEFAULT_MODEL = MODEL_ID
# How long an answer of max_tokens (4,096) may take to stream once it has begun: 240 s is
# 17 tokens a second, well under what a 1B model decodes at on an L4 with a full batch.
ANSWER_ALLOWANCE_S = 240.0


@dataclass(frozen=True, slots=True)
class DocumentSettings:
    """How documents become page images. Defaults follow the LightOnOCR-2 model card."""

    longest_side: int = 1540
    max_pages: int = 1000
    # Pillow's own decompression-bomb threshold is ~179 Mpx; scans never need more than this.
    max_image_pixels: int = 178_956_970
    # A PDF page larger than this many points on a side (200 in) is not a scan.
    max_page_points: float = 14_400.0
    # Parse and render in the sandbox's worker processes (memory, CPU and wall-time limits):
    # documents come from the public. Off only for trusted files, and inside the workers.
    isolated: bool = True


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling chosen for one page by a person reading it again; a None field keeps the
    client's setting. `repetition_penalty` is vLLM's (1.0 is none; above 1 discourages
    loops); `max_tokens` is still clamped to what the service's context holds."""

    temperature: float | None = None
    repetition_penalty: float | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be between 0 and 2, not {self.temperature}")
        if self.repetition_penalty is not None and not 0.0 < self.repetition_penalty <= 2.0:
            raise ValueError(
                f"repetition_penalty must be above 0 and at most 2, not {self.repetition_penalty}"
            )
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, not {self.max_tokens}")

    def over(
        self, temperature: float, repetition_penalty: float | None, max_tokens: int
    ) -> tuple[float, float | None, int]:
        """(temperature, repetition penalty, max tokens) with this choice over the given ones;
        max_tokens never above the given one (what the service's context holds)."""
        return (
            temperature if self.temperature is None else self.temperature,
            repetition_penalty if self.repetition_penalty is None else self.repetition_penalty,
            max_tokens if self.max_tokens is None else min(max_tokens, self.max_tokens),
        )

    def to_dict(self) -> dict[str, float | int]:
        """The fields that were chosen (the rest follow the client's settings)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    base_url: str = DEFAULT_LOCAL_URL
    model: str = DEFAULT_MODEL
    # One request's deadlines, phase by phase, so that work the service has taken on is never
    # abandoned for waiting its turn (chat requests are always streamed; see _http.py):
    # - until the service takes the request (its response headers). A scaled-to-zero Cloud
    #   Run service holds a request while an instance starts, so this is the deployed startup
    #   window (deploy/_spec.py: 120 s + 24 x 10 s; the console reads the real one);
    admission_timeout_s: float = 360.0
    # - from then until the answer's first byte: the request queued behind others and the
    #   model's first token (vLLM sends nothing meanwhile; our local server sends keep-alives);
    queue_timeout_s: float = 600.0
    # - the longest silence between two pieces of an answer once it has begun;
    timeout_s: float = 120.0
    # - and the whole attempt, so a server trickling one byte a minute (or sending keep-alive
    #   comments without end) cannot hold a page forever. None: the phases end to end, see
    #   `attempt_deadline_s`; the GPU service's request timeout is set above that
    #   (deploy/_spec.py, tests/deploy/test_timeouts.py), so Cloud Run never cuts first.
    attempt_limit_s: float | None = None
    connect_timeout_s: float = 10.0
    # Requests in flight: as many as the server runs at once, more would only queue there.
    # A server that states its capacity in /v1/models (`max_num_seqs`: our local server does,
    # vLLM does not) lowers it to that.
    concurrency: int = MAX_NUM_SEQS
    max_tokens: int = 4096
    temperature: float = 0.2
    top_p: float = 0.9
    # Retries through cold starts (tenacity): attempts per request and the exponential wait.
    max_attempts: int = 3
    backoff_min_s: float = 4.0
    backoff_max_s: float = 60.0
    # Circuit breaker.
    breaker_failure_threshold: int = 3
    breaker_cooldown_s: float = 30.0
    # "auto" | "none" | "bearer" | "google"
    auth: str = "auto"
    token: str | None = field(default=None, repr=False)
    impersonate_service_account: str | None = None
    # The audience Google ID tokens are minted for: None is the service URL. A service that
    # lists a custom audience accepts it at every URL it serves, its revision tags' included
    # (deploy sets one), so one audience serves the service and its tags alike.
    audience: str | None = None
    # Use a PDF page's own text instead of OCR when it has a usable text layer.
    use_text_layer: bool = False
    # Raise Truncated instead of flagging truncated pages.
    strict: bool = False
    # Ask for token log-probabilities: each page gets a confidence and its doubtful words.
    logprobs: bool = True
    # A page whose answer loops or comes back empty is asked once more with this sampling
    # (as olmOCR and chandra do); the better answer is kept and the page says why.
    rerun_runaway: bool = True
    rerun_temperature: float = 0.7
    rerun_repetition_penalty: float = 1.1
    # Render pages at the size the server says it reads best (`preferred_longest_side` in its
    # /v1/models entry: our local engine states one, vLLM never does) instead of
    # `documents.longest_side`. Off when LIGHTONOCR_LONGEST_SIDE is set explicitly.
    follow_server_page_size: bool = True
    documents: DocumentSettings = field(default_factory=DocumentSettings)

    def with_overrides(self, **overrides: Any) -> ClientSettings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ClientSettings:
        env = os.environ if env is None else env
        # Slotted dataclasses keep no class-level defaults, so read them from an instance.
        doc_defaults, defaults = DocumentSettings(), cls()
        documents = DocumentSettings(
            longest_side=int(env.get("LIGHTONOCR_LONGEST_SIDE", doc_defaults.longest_side)),
            max_pages=int(env.get("LIGHTONOCR_MAX_PAGES", doc_defaults.max_pages)),
        )
        settings = cls(
            base_url=(env.get("LIGHTONOCR_SERVICE_URL") or DEFAULT_LOCAL_URL).rstrip("/"),
            model=env.get("LIGHTONOCR_MODEL") or DEFAULT_MODEL,
            admission_timeout_s=float(
                env.get("LIGHTONOCR_ADMISSION_TIMEOUT_S", defaults.admission_timeout_s)
            ),
            queue_timeout_s=float(env.get("LIGHTONOCR_QUEUE_TIMEOUT_S", defaults.queue_timeout_s)),
            timeout_s=float(env.get("LIGHTONOCR_TIMEOUT_S", defaults.timeout_s)),
            attempt_limit_s=_seconds(env.get("LIGHTONOCR_ATTEMPT_TIMEOUT_S")),
            concurrency=int(env.get("LIGHTONOCR_CONCURRENCY", defaults.concurrency)),
            max_tokens=int(env.get("LIGHTONOCR_MAX_TOKENS", defaults.max_tokens)),
            max_attempts=int(env.get("LIGHTONOCR_MAX_ATTEMPTS", defaults.max_attempts)),
            auth=env.get("LIGHTONOCR_AUTH", "auto"),
            token=env.get("LIGHTONOCR_TOKEN") or None,
            impersonate_service_account=env.get("LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT") or None,
            audience=env.get("LIGHTONOCR_AUDIENCE") or None,
            logprobs=_flag(env.get("LIGHTONOCR_LOGPROBS"), defaults.logprobs),
            rerun_runaway=_flag(env.get("LIGHTONOCR_RERUN_RUNAWAY"), defaults.rerun_runaway),
            follow_server_page_size="LIGHTONOCR_LONGEST_SIDE" not in env,
            documents=documents,
        )
        return settings.with_overrides(**overrides)

    @property
    def attempt_deadline_s(self) -> float:
        """One attempt's deadline: `attempt_limit_s`, else the phases end to end (the service
        takes the request, its turn comes, and `ANSWER_ALLOWANCE_S` for the answer)."""
        if self.attempt_limit_s is not None:
            return self.attempt_limit_s
        return self.admission_timeout_s + self.queue_timeout_s + ANSWER_ALLOWANCE_S

    @property
    def is_cloud_run(self) -> bool:
        return self.base_url.startswith("https://") and ".run.app" in self.base_url

    def resolved_auth(self) -> str:
        if self.auth != "auto":
            return self.auth
        if self.is_cloud_run:
            return "google"
        return "bearer" if self.token else "none"


def _seconds(value: str | None) -> float | None:
    """A number of seconds, or None when unset or empty (the default applies)."""
    return float(value) if value is not None and value.strip() else None


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")
