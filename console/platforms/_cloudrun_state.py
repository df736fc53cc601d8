"""What state an operator should see for a Cloud Run service, read from what Run reports.

These rules need only the service's conditions and revisions; the one case they cannot
settle alone, a healthy service with floor 0, is left to the platform (it asks Monitoring
whether an instance is running, see `CloudRunPlatform._scale_to_zero_state`).
"""

from __future__ import annotations

from console.platforms._base import ServiceState
from deploy import ServiceInfo


def service_state(info: ServiceInfo) -> tuple[ServiceState, str] | None:
    """The state and one sentence on why, or None for a healthy service with floor 0 (ready
    or cold: only whether an instance is running can tell)."""
    failed = [(t, m) for t, s, m in info.conditions if "FAILED" in str(s).upper()]
    problems = "; ".join(f"{t}: {m}" if m else t for t, m in failed)
    serving = info.latest_ready_revision
    if info.reconciling:
        rolling = info.latest_created_revision or "a new revision"
        return ServiceState.STARTING, f"Cloud Run is rolling out {rolling}."
    if not serving:
        why = problems or "no revision has become ready yet"
        return ServiceState.DOWN, f"No revision can serve: {why}."
    if failed or not info.ready:
        why = problems or "the service's Ready condition is not true"
        return ServiceState.DEGRADED, f"{why} (still serving {serving})."
    if info.latest_created_revision and info.latest_created_revision != serving:
        return (
            ServiceState.DEGRADED,
            f"The latest revision {info.latest_created_revision} is not ready; "
            f"traffic stays on {serving}: read its logs.",
        )
    if info.min_instances:
        return ServiceState.READY, f"{info.min_instances} instance(s) kept warm."
    return None
