"""What the deployer reports: a service or revision as an operator reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from google.cloud import run_v2

BY_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What an operator needs to know about the service right now."""

    name: str
    url: str
    latest_ready_revision: str
    latest_created_revision: str
    min_instances: int
    max_instances: int
    gpu_type: str
    gpu_count: int
    cpu: str
    memory: str
    ready: bool
    reconciling: bool
    conditions: list[tuple[str, str, str]]  # (type, state, message)
    image: str
    update_time: datetime | None
    # (revision, percent) pairs now receiving traffic; after a rollback this differs
    # from latest_ready_revision.
    traffic: list[tuple[str, int]] = field(default_factory=list)
    # How long Cloud Run lets a new instance start (its startup probe's initial delay plus
    # failure_threshold x period): a request into a cold service may wait this long.
    startup_window_s: int = 0
    # The audience to mint ID tokens for: the service's custom audience when it has one
    # (valid at its tag URLs too); "" for none (then the URL called is the audience).
    audience: str = ""


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """One revision; `traffic_percent` is its share of traffic now.

    min/max instances are the revision's own scaling (0 when it sets none: this spec
    scales at the service level)."""

    name: str
    create_time: datetime | None
    ready: bool
    traffic_percent: int
    image: str
    min_instances: int
    max_instances: int
    # "sha256:..." when the image reference pins a digest ("" for a tag: Cloud Run's v2 API
    # reports the reference as deployed, and `apply` only deploys digests or commit tags).
    digest: str = ""
    # The Hub commit vLLM loads, where the revision states it (MODEL_REVISION_SOURCES), else "".
    model_revision: str = ""


# Where a revision may state its model revision: vLLM's `--revision` in the container
# args, an environment variable, or a label on the revision template.
MODEL_REVISION_ENV = "MODEL_REVISION"
MODEL_REVISION_LABEL = "model-revision"


def image_digest(image: str) -> str:
    """`IMAGE@sha256:abc` -> `sha256:abc`; a tag gives ""."""
    return image.partition("@")[2] if "@sha256:" in image else ""


def model_revision(revision: run_v2.Revision) -> str:
    """The model revision a Cloud Run revision serves, from its args, env or labels."""
    for container in revision.containers:
        args = list(container.args)
        for index, arg in enumerate(args):
            if arg == "--revision" and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith("--revision="):
                return arg.split("=", 1)[1]
        for variable in container.env:
            if variable.name == MODEL_REVISION_ENV and variable.value:
                return variable.value
    return str(revision.labels.get(MODEL_REVISION_LABEL, ""))


def short_name(resource_name: str) -> str:
    """`projects/p/locations/r/services/s/revisions/x` -> `x` (short names pass through)."""
    return resource_name.rsplit("/", 1)[-1]


def _state(state: run_v2.Condition.State) -> str:
    return state.name.removeprefix("CONDITION_")


def service_info(service: run_v2.Service) -> ServiceInfo:
    """Summarise a run_v2 Service (service-level scaling first, the template's as fallback)."""
    template = service.template
    container = template.containers[0] if template.containers else run_v2.Container()
    limits = container.resources.limits
    scaling = service.scaling
    min_instances, max_instances = scaling.min_instance_count, scaling.max_instance_count
    if not (min_instances or max_instances):
        min_instances = template.scaling.min_instance_count
        max_instances = template.scaling.max_instance_count
    conditions = [
        (c.type_, _state(c.state), c.message)
        for c in [service.terminal_condition, *service.conditions]
        if c.type_
    ]
    return ServiceInfo(
        name=short_name(service.name),
        url=service.uri,
        latest_ready_revision=short_name(service.latest_ready_revision),
        latest_created_revision=short_name(service.latest_created_revision),
        min_instances=min_instances,
        max_instances=max_instances,
        gpu_type=template.node_selector.accelerator,
        gpu_count=int(limits.get("nvidia.com/gpu", "0") or 0),
        cpu=limits.get("cpu", ""),
        memory=limits.get("memory", ""),
        ready=service.terminal_condition.state == _SUCCEEDED,
        reconciling=service.reconciling,
        conditions=conditions,
        image=container.image,
        update_time=service.update_time,
        traffic=sorted(traffic_by_revision(service).items()),
        startup_window_s=startup_window_s(container),
        audience=service.custom_audiences[0] if service.custom_audiences else "",
    )


# Cloud Run's startup probe when a container sets none: TCP, one 240 s check.
_DEFAULT_STARTUP_WINDOW_S = 240


def startup_window_s(container: run_v2.Container) -> int:
    """How long the container's startup probe lets it take to come up."""
    probe = container.startup_probe
    if not probe.period_seconds:
        return _DEFAULT_STARTUP_WINDOW_S
    return probe.initial_delay_seconds + max(1, probe.failure_threshold) * probe.period_seconds


def traffic_by_revision(service: run_v2.Service) -> dict[str, int]:
    shares: dict[str, int] = {}
    for status in service.traffic_statuses:
        name = status.revision if status.type_ == BY_REVISION else service.latest_ready_revision
        if name:
            shares[short_name(name)] = shares.get(short_name(name), 0) + status.percent
    return shares


def _is_ready(revision: run_v2.Revision) -> bool:
    return any(c.type_ == "Ready" and c.state == _SUCCEEDED for c in revision.conditions)


def revision_info(revision: run_v2.Revision, traffic: Mapping[str, int]) -> RevisionInfo:
    name = short_name(revision.name)
    image = revision.containers[0].image if revision.containers else ""
    return RevisionInfo(
        name=name,
        create_time=revision.create_time,
        ready=_is_ready(revision),
        traffic_percent=traffic.get(name, 0),
        image=image,
        min_instances=revision.scaling.min_instance_count,
        max_instances=revision.scaling.max_instance_count,
        digest=image_digest(image),
        model_revision=model_revision(revision),
    )
