"""The composition root: what a running console is made of, built once from its settings.

A console is a store (rows, and the object store its documents' bytes live in), a platform
(local or Cloud Run: the OCR service and its controls), the door over them (`Operations`: it
authorises and audits every action, and holds the one circuit breaker every OCR client of the
service shares) and, where jobs run, a job runner. The worker, the UI, every CLI and the
canary take them from a `Runtime`; nothing else constructs a door or a runner, so the choices
made here (the client settings a runner uses, how the revision is named, which breaker) are
made once. See docs/ARCHITECTURE.md for the layers above and below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from console._identity import IdentitySettings
from console._store import Store
from console.jobs._runner import POLL_S, JobRunner
from console.platforms import Platform, select_platform
from console.service import Operations
from console.settings import ConsoleSettings
from ocr_core import CircuitBreaker, ClientSettings, OCRClient


def make_runner(
    store: Store,
    settings: ClientSettings,
    *,
    breaker: CircuitBreaker | None = None,
    revision: Callable[[], str | None] | None = None,
    ready: Callable[[], bool] | None = None,
    only: set[int] | None = None,
    poll_s: float = POLL_S,
) -> JobRunner:
    """The one construction of a job runner. A runner never reads a PDF's own text layer
    (a job asks for it per document), and every page's client shares `breaker` when given,
    so an outage seen by one job opens the breaker for all of them."""
    settings = settings.with_overrides(use_text_layer=False)
    return JobRunner(
        store,
        lambda: OCRClient(settings=settings, breaker=breaker),
        revision=revision,
        ready=ready,
        only=only,
        poll_s=poll_s,
    )


@dataclass
class Runtime:
    """One console's parts. Build it with `build_runtime` (from the environment) or, where
    the platform is chosen by the caller (the canary's candidate service), from an existing
    `Operations`."""

    operations: Operations

    @property
    def store(self) -> Store:
        return self.operations.store

    @property
    def platform(self) -> Platform:
        return self.operations.platform

    def revision(self) -> str | None:
        """What serves pages now (a Cloud Run revision, a local server's pid), or None when
        that cannot be read: not knowing it must never stop a job."""
        try:
            return self.operations.status().revision
        except Exception:
            return None

    def runner(self, *, only: set[int] | None = None, poll_s: float = POLL_S) -> JobRunner:
        """This console's runner: the platform's client settings, the door's breaker, the
        revision asked once per run, and no job claimed while the service is loading.
        `only` limits it to the given jobs (a canary's runner takes nobody else's)."""
        platform = self.platform
        return make_runner(
            self.store,
            platform.client_settings(),
            breaker=self.operations.breaker,
            revision=self.revision,
            ready=platform.accepting_work,
            only=only,
            poll_s=poll_s,
        )

    def close(self) -> None:
        self.operations.close()


def build_runtime(env: Mapping[str, str] | None = None, *, background: bool = True) -> Runtime:
    """The console from the environment (see README, "Settings"): the store it names, the
    platform it selects over that store, and the door. `background=False` for the UI and the
    CLIs, whose background duties (samplers, keep-warm) the worker has."""
    env = os.environ if env is None else env
    settings = ConsoleSettings.from_env(env)
    store = Store.from_env(env)
    platform = select_platform(env, store=store, background=background)
    operations = Operations(
        platform,
        store,
        actor=settings.actor,
        identity_required=IdentitySettings.from_env(env).mode != "local",
    )
    return Runtime(operations)
