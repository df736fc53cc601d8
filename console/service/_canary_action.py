"""The quality-gated canary as an audited action: `python -m console.golden canary` calls
`canary_rollout`; the Service page's button writes a request the worker runs
(`request_canary_rollout`, then `run_requested_canary` in the worker).

The door authorises the operator and writes the audit row (who, which tag and set, promoted
or refused and why); `console.golden._canary.run_canary` does the work while the service's rollout
lock is held (one canary per service). On the local platform there are no revisions to
gate: the action says so (audited as failed) instead of pretending.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from console._identity import Identity, Role
from console.golden import DEFAULT_MARGIN, GoldenStore
from console.golden._canary import CanaryReport, run_canary
from console.golden._gate import check_gate_input
from console.jobs import JobRunner, JobStore
from console.platforms.cloudrun import CloudRunPlatform
from console.service._door import Door
from console.service._rollouts import (
    CanaryRequest,
    canary_request,
    finish_canary_request,
    request_canary,
    rollout_lock,
    take_canary_request,
)
from deploy import CloudError, ServiceSpec
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
        holder = f"{actor} ({uuid.uuid4().hex[:8]})"
        with rollout_lock(door.store, deployer.target.name, holder, f"canary of {tag}"):
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


def request_canary_rollout(
    door: Door, identity: Identity | None, *, tag: str, golden_set: str, margin: float
) -> int:
    """The Service page's button: the role is checked and the gate's input judged now (a
    viewer, the local platform, an unknown or never-measured set, a bad margin are refused
    at once, audited), then the request is written to the store for the worker, which runs
    it with its own job runner: no canary runs in the Streamlit process. The request is
    audited as asked; the canary's verdict is audited when the worker has run it."""

    def call(actor: str) -> int:
        if not isinstance(door.platform, CloudRunPlatform):
            raise CanaryUnavailable(
                f"the canary needs the Cloud Run platform, not {door.platform.name}",
                action="rolling out a canary",
            )
        check_gate_input(GoldenStore(door.store), golden_set, margin)
        return request_canary(
            door.store, tag=tag, golden_set=golden_set, margin=margin, actor=actor
        )

    target = f"{tag} gated by {golden_set}"
    return door.act(
        identity, "canary rollout", target, call, lambda n: f"requested #{n}: the worker runs it"
    )


def run_requested_canary(door: Door, runner: JobRunner, owner: str) -> CanaryRequest | None:
    """The worker's duty: take the oldest requested canary (if any) and run it, audited under
    the name of the person who asked (checked by the door when they asked)."""
    request = take_canary_request(door.store, owner)
    if request is None:
        return None
    operator = Identity(request.actor, Role.OPERATOR, "canary request")
    try:
        report = canary_rollout(
            door,
            operator,
            tag=request.tag,
            golden_set=request.golden_set,
            margin=request.margin,
            runner=runner,
        )
    except Exception as error:  # audited as failed by the door; the request says why too
        finish_canary_request(door.store, request.id, False, f"{type(error).__name__}: {error}")
    else:
        verdict = "promoted" if report.promoted else "refused: " + "; ".join(report.refusals)
        finish_canary_request(door.store, request.id, report.promoted, verdict[:500])
    return canary_request(door.store, request.id)


__all__ = [
    "CanaryUnavailable",
    "canary_rollout",
    "request_canary_rollout",
    "run_requested_canary",
]
