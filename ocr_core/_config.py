"""The client's settings, and every LIGHTONOCR_* variable `ocr_core` reads: `VARIABLES`
below is the one table (name, field, type, default, meaning), read here and nowhere else;
the README's first table of variables is tested against it (tests/test_settings_table.py).

The model id and the serving limits come from `gpu_image/serve_config.py`, the one place the
served model's flags live (standard library only, so the base install imports it too).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gpu_image.serve_config import DEFAULT_PORT, MAX_NUM_SEQS, MODEL_ID

from ._sandbox import SandboxLimits
from ._variables import Variable, flag

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
        longest_side = LONGEST_SIDE.read(env)
        documents = DocumentSettings(
            longest_side=_DOCUMENTS.longest_side if longest_side is None else longest_side,
            max_pages=MAX_PAGES.read(env),
        )
        settings = cls(
            base_url=(SERVICE_URL.read(env) or DEFAULT_LOCAL_URL).rstrip("/"),
            model=MODEL.read(env),
            admission_timeout_s=ADMISSION_TIMEOUT_S.read(env),
            queue_timeout_s=QUEUE_TIMEOUT_S.read(env),
            timeout_s=TIMEOUT_S.read(env),
            attempt_limit_s=ATTEMPT_TIMEOUT_S.read(env),
            concurrency=CONCURRENCY.read(env),
            max_tokens=MAX_TOKENS.read(env),
            max_attempts=MAX_ATTEMPTS.read(env),
            auth=AUTH.read(env),
            token=TOKEN.read(env),
            impersonate_service_account=IMPERSONATE_SERVICE_ACCOUNT.read(env),
            audience=AUDIENCE.read(env),
            logprobs=LOGPROBS.read(env),
            rerun_runaway=RERUN_RUNAWAY.read(env),
            follow_server_page_size=longest_side is None,
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


def sandbox_limits_from_env(env: Mapping[str, str] | None = None) -> SandboxLimits:
    """The document workers' limits (LIGHTONOCR_RENDER_*), for `SandboxLimits.from_env`."""
    env = os.environ if env is None else env
    return SandboxLimits(
        memory_mb=RENDER_MEMORY_MB.read(env),
        cpu_seconds=RENDER_CPU_S.read(env),
        wall_seconds=RENDER_TIMEOUT_S.read(env),
        workers=RENDER_WORKERS.read(env),
    )


# Slotted dataclasses keep no class-level defaults, so the table reads them from instances.
_CLIENT, _DOCUMENTS, _LIMITS = ClientSettings(), DocumentSettings(), SandboxLimits()

SERVICE_URL: Variable[str | None] = Variable(
    "LIGHTONOCR_SERVICE_URL",
    "base_url",
    str,
    None,
    "the OCR service (a `*.run.app` URL selects the cloudrun platform in the console)",
    shown=f"none: the local server at `{DEFAULT_LOCAL_URL}`",
)
AUTH = Variable(
    "LIGHTONOCR_AUTH",
    "auth",
    str,
    _CLIENT.auth,
    "`none`, `bearer`, `google`",
    shown="`auto` (Google ID tokens for `*.run.app`, else none)",
)
TOKEN: Variable[str | None] = Variable(
    "LIGHTONOCR_TOKEN",
    "token",
    str,
    None,
    "static bearer, or a pre-minted ID token when ADC cannot mint one (refused once expired)",
    secret=True,
)
IMPERSONATE_SERVICE_ACCOUNT: Variable[str | None] = Variable(
    "LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT",
    "impersonate_service_account",
    str,
    None,
    'mint ID tokens as this service account (see "Calling the Cloud Run service")',
)
AUDIENCE: Variable[str | None] = Variable(
    "LIGHTONOCR_AUDIENCE",
    "audience",
    str,
    None,
    "the audience ID tokens are minted for: the service's custom audience (`deploy` sets "
    "`https://SERVICE.REGION.PROJECT.run.invalid`, valid at its tag URLs too; the console "
    "reads it from the service)",
    shown="none: the service URL",
)
MODEL = Variable("LIGHTONOCR_MODEL", "model", str, DEFAULT_MODEL, "served model name")
ADMISSION_TIMEOUT_S = Variable(
    "LIGHTONOCR_ADMISSION_TIMEOUT_S",
    "admission_timeout_s",
    float,
    _CLIENT.admission_timeout_s,
    "how long a request waits for the service to take it: a cold start",
    shown="`360` (the deploy spec's startup window; the console reads the service's)",
)
QUEUE_TIMEOUT_S = Variable(
    "LIGHTONOCR_QUEUE_TIMEOUT_S",
    "queue_timeout_s",
    float,
    _CLIENT.queue_timeout_s,
    "from then until its answer begins (its turn in the server's queue)",
)
TIMEOUT_S = Variable(
    "LIGHTONOCR_TIMEOUT_S",
    "timeout_s",
    float,
    _CLIENT.timeout_s,
    "the longest silence in an answer once it has begun",
)
ATTEMPT_TIMEOUT_S: Variable[float | None] = Variable(
    "LIGHTONOCR_ATTEMPT_TIMEOUT_S",
    "attempt_limit_s",
    float,
    None,
    "one attempt end to end, so a server streaming without end holds a page this long at most "
    "per attempt; the GPU service's request timeout (1500 s) is above it",
    shown=f"admission + queue + {ANSWER_ALLOWANCE_S:.0f} (`{_CLIENT.attempt_deadline_s:.0f}`)",
)
CONCURRENCY = Variable(
    "LIGHTONOCR_CONCURRENCY",
    "concurrency",
    int,
    _CLIENT.concurrency,
    "requests in flight (vLLM `--max-num-seqs`), fewer when the server states fewer",
)
MAX_TOKENS = Variable(
    "LIGHTONOCR_MAX_TOKENS",
    "max_tokens",
    int,
    _CLIENT.max_tokens,
    "clamped to the server's `max_model_len`; bounds an answer's text (x 256 bytes)",
)
MAX_ATTEMPTS = Variable(
    "LIGHTONOCR_MAX_ATTEMPTS",
    "max_attempts",
    int,
    _CLIENT.max_attempts,
    "tries per request through 429/502/503/504, resets, timeouts",
)
MAX_PAGES = Variable(
    "LIGHTONOCR_MAX_PAGES",
    "documents.max_pages",
    int,
    _DOCUMENTS.max_pages,
    "documents with more pages are refused",
)
LONGEST_SIDE: Variable[int | None] = Variable(
    "LIGHTONOCR_LONGEST_SIDE",
    "documents.longest_side",
    int,
    None,
    "page images are scaled to this longest side; set it to ignore the server's preference",
    shown=f"`{_DOCUMENTS.longest_side}`, or the server's `preferred_longest_side`",
)
LOGPROBS = Variable(
    "LIGHTONOCR_LOGPROBS",
    "logprobs",
    flag,
    _CLIENT.logprobs,
    "ask for token log-probabilities (page confidence, doubtful words)",
)
RERUN_RUNAWAY = Variable(
    "LIGHTONOCR_RERUN_RUNAWAY",
    "rerun_runaway",
    flag,
    _CLIENT.rerun_runaway,
    "ask again, once, for a page whose answer loops or is empty",
)
RENDER_MEMORY_MB = Variable(
    "LIGHTONOCR_RENDER_MEMORY_MB",
    "memory_mb",
    int,
    _LIMITS.memory_mb,
    "memory a document worker may grow by for one page",
)
RENDER_CPU_S = Variable(
    "LIGHTONOCR_RENDER_CPU_S",
    "cpu_seconds",
    float,
    _LIMITS.cpu_seconds,
    "CPU seconds one page may take to parse and render",
)
RENDER_TIMEOUT_S = Variable(
    "LIGHTONOCR_RENDER_TIMEOUT_S",
    "wall_seconds",
    float,
    _LIMITS.wall_seconds,
    "wall seconds one page may take to parse and render",
)
RENDER_WORKERS = Variable(
    "LIGHTONOCR_RENDER_WORKERS",
    "workers",
    int,
    _LIMITS.workers,
    "document worker processes (plus one kept for light documents)",
)

# Every variable `ocr_core` reads, in the README's order.
VARIABLES: tuple[Variable[Any], ...] = (
    SERVICE_URL,
    AUTH,
    TOKEN,
    IMPERSONATE_SERVICE_ACCOUNT,
    AUDIENCE,
    MODEL,
    ADMISSION_TIMEOUT_S,
    QUEUE_TIMEOUT_S,
    TIMEOUT_S,
    ATTEMPT_TIMEOUT_S,
    CONCURRENCY,
    MAX_TOKENS,
    MAX_ATTEMPTS,
    MAX_PAGES,
    LONGEST_SIDE,
    LOGPROBS,
    RERUN_RUNAWAY,
    RENDER_MEMORY_MB,
    RENDER_CPU_S,
    RENDER_TIMEOUT_S,
    RENDER_WORKERS,
)
