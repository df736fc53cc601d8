"""The Service request a spec becomes, and how the dry run prints it.

`build_service` is the exact message `apply` sends. `request_json` prints only the fields
that are set: proto-plus's own `to_json` also prints every empty default (`command: []`,
`baseImageUri: ""`), which reads as if we set them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from google.cloud import run_v2
from google.protobuf import duration_pb2, json_format

from deploy._info import MODEL_REVISION_LABEL
from deploy._spec import ServiceSpec, ServiceTarget
from gpu_image import serve_config

_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST


def _startup_probe(spec: ServiceSpec) -> run_v2.Probe:
    """HTTP GET on vLLM's /health when a path is set: 200 only once the engine is ready
    (a bare TCP check passes as soon as anything listens on the port)."""
    probe = run_v2.Probe(
        initial_delay_seconds=spec.probe_initial_delay_s,
        timeout_seconds=spec.probe_timeout_s,
        period_seconds=spec.probe_period_s,
        failure_threshold=spec.probe_failure_threshold,
    )
    if spec.probe_http_path:
        probe.http_get = run_v2.HTTPGetAction(path=spec.probe_http_path, port=spec.port)
    else:
        probe.tcp_socket = run_v2.TCPSocketAction(port=spec.port)
    return probe


def build_service(target: ServiceTarget, spec: ServiceSpec) -> run_v2.Service:
    """The exact Service the spec describes: all traffic to the latest revision."""
    limits = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.gpu_count:
        limits["nvidia.com/gpu"] = str(spec.gpu_count)
    container = run_v2.Container(
        name="vllm",
        image=spec.image_for(target),
        ports=[run_v2.ContainerPort(name="http1", container_port=spec.port)],
        env=[run_v2.EnvVar(name=key, value=value) for key, value in sorted(spec.env.items())],
        resources=run_v2.ResourceRequirements(
            limits=limits, cpu_idle=spec.cpu_idle, startup_cpu_boost=spec.startup_cpu_boost
        ),
        startup_probe=_startup_probe(spec),
    )
    template = run_v2.RevisionTemplate(
        # Every revision names the Hub commit its image bakes in, so the console's revision
        # list shows which model each one serves (and a rollback which model it goes back to).
        labels={**spec.labels, MODEL_REVISION_LABEL: serve_config.MODEL_REVISION},
        service_account=spec.service_account_for(target),
        timeout=duration_pb2.Duration(seconds=spec.request_timeout_s),
        max_instance_request_concurrency=spec.concurrency,
        execution_environment=run_v2.ExecutionEnvironment.EXECUTION_ENVIRONMENT_GEN2,
        containers=[container],
    )
    if spec.gpu_count:
        template.node_selector = run_v2.NodeSelector(accelerator=spec.gpu_type)
        template.gpu_zonal_redundancy_disabled = spec.gpu_zonal_redundancy_disabled
    return run_v2.Service(
        name=target.name,
        labels=dict(spec.labels),
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        invoker_iam_disabled=False,  # every request is checked against roles/run.invoker
        custom_audiences=[spec.audience_for(target)],
        scaling=run_v2.ServiceScaling(
            min_instance_count=spec.min_instances, max_instance_count=spec.max_instances
        ),
        traffic=[run_v2.TrafficTarget(type_=_LATEST, percent=100)],
        template=template,
    )


def with_kept_tags(
    wanted: Sequence[run_v2.TrafficTarget], current: Sequence[run_v2.TrafficTarget]
) -> list[run_v2.TrafficTarget]:
    """`wanted` plus the revision tags the service has now, at no traffic.

    A full update replaces the traffic list whole, so without this an `apply` would drop every
    tag (the Compare page's and a canary's tagged URLs). A tag on the latest revision moves
    with it onto the wanted latest target."""
    kept = [run_v2.TrafficTarget(target) for target in wanted]
    for old in current:
        if not old.tag:
            continue
        if old.type_ == _LATEST:
            latest = next((t for t in kept if t.type_ == _LATEST and not t.tag), None)
            if latest is not None:
                latest.tag = old.tag
                continue
        if any(t.tag == old.tag for t in kept):
            continue
        kept.append(
            run_v2.TrafficTarget(type_=old.type_, revision=old.revision, percent=0, tag=old.tag)
        )
    return kept


def request_json(service: run_v2.Service) -> str:
    """The request as JSON with only what is set. A false `cpuIdle` is absent, as on the
    wire: with resources set, that means CPU always allocated (run_v2's own docs)."""
    as_dict = json_format.MessageToDict(run_v2.Service.pb(service))
    return json.dumps(as_dict, indent=2)
