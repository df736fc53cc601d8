"""The quality-gated canary as an audited action: the Service page's button and
`python -m deploy apply --canary` both go through `canary_rollout`.

The door authorises the operator and writes the audit row (who, which tag and set, promoted
or refused and why); `deploy._canary.run_canary` does the work. On the local platform there
are no revisions to gate: the action says so (audited as failed) instead of pretending.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace

from console._identity import Identity
from console.golden import GoldenStore
from console.jobs import JobRunner, JobStore
from console.platforms.cloudrun import CloudRunPlatform
from console.service._door import Door
from deploy import CloudError, ServiceSpec
from deploy._canary import DEFAULT_MARGIN, CanaryReport, run_canary
from ocr_core import OCRClient


class CanaryUnavailable(CloudError):
    """The canary needs Cloud Run: revisions, tags and their startup logs."""


def canary_rollout(
    door: Door,
    identity: Identity | None,
    *,
    tag: str,
    golden_set: str,
    margin: float = DEFAULT_MARGIN,
    runner: JobRunner | None = None,
    timeout_s: float = 3600.0,
    spec: ServiceSpec | None = None,
    keep_scaling: bool = True,
) -> CanaryReport:
    """Deploy image `tag` as a canary gated by `golden_set`; promoted only if it reads as well.

    `spec` is the whole spec to deploy (the CLI's, built from its flags as `apply` builds
    it); without one, the spec from this process's environment with image `tag`. Without
    `runner` the golden run's job is left to the console's worker (it polls the store)."""
    if spec is None:
        spec = replace(ServiceSpec().with_env(), tag=tag, image=None)
    wanted = spec

    def call(actor: str) -> CanaryReport:
        platform = door.platform
        if not isinstance(platform, CloudRunPlatform):
            raise CanaryUnavailable(
                f"the canary needs the Cloud Run platform, not {platform.name}",
                action="rolling out a canary",
            )
        deployer, startup_log = platform.canary_tools()
        settings = platform.client_settings().with_overrides(use_text_layer=False)
        return run_canary(
            deployer,
            wanted,
            golden=GoldenStore(door.store),
            jobs=JobStore(door.store),
            runner=runner,
            name=golden_set,
            client_for=lambda url: OCRClient(url, settings=settings),
            startup_log=startup_log,
            actor=actor,
            margin=margin,
            timeout_s=timeout_s,
            keep_scaling=keep_scaling,
        )

    def detail(report: CanaryReport) -> str:
        if report.promoted:
            return f"promoted {report.revision} ({golden_set}, margin {margin})"
        return f"refused {report.revision}: " + "; ".join(report.refusals)[:500]

    return door.act(identity, "canary rollout", f"{tag} gated by {golden_set}", call, detail)


def start_canary_rollout(
    door: Door, identity: Identity | None, *, tag: str, golden_set: str, margin: float
) -> threading.Thread:
    """The Service page's button: the role is checked now (a viewer is refused and audited
    at once), the rollout runs on a thread of the console process, not of the page, so it
    outlives the page view; its verdict lands in the audit log, its run on the Quality page."""
    door.authorise(identity, "canary rollout", f"{tag} gated by {golden_set}")

    def work() -> None:
        with contextlib.suppress(Exception):  # audited as failed by the door
            canary_rollout(door, identity, tag=tag, golden_set=golden_set, margin=margin)

    thread = threading.Thread(target=work, name=f"canary-{tag}", daemon=True)
    thread.start()
    return thread


__all__ = ["CanaryUnavailable", "canary_rollout", "start_canary_rollout"]
