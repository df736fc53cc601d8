"""The flags that name a service and describe its spec, shared by `python -m deploy apply`
and the console's canary command (`python -m console.golden canary`), which deploys the
same spec as a tagged candidate: one list, so a flag cannot reach one and not the other."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping

from deploy._spec import ServiceSpec

_SPEC_FLAGS = (
    "image",
    "tag",
    "repository",
    "min_instances",
    "max_instances",
    "cpu",
    "memory",
    "gpu_type",
    "concurrency",
    "probe_initial_delay_s",
    "service_account",
)


def target_arguments() -> argparse.ArgumentParser:
    """A parent parser: --project, --region, --service."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--project", help="Google Cloud project (env GOOGLE_CLOUD_PROJECT)")
    where.add_argument("--region", help="Cloud Run region (env LIGHTONOCR_REGION, us-central1)")
    where.add_argument("--service", help="service name (env LIGHTONOCR_SERVICE, lightonocr)")
    return where


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The spec's flags; `spec_from_args` reads them back."""
    parser.add_argument("--image", help="full image reference (env LIGHTONOCR_IMAGE)")
    parser.add_argument("--tag", help="image tag in Artifact Registry (env LIGHTONOCR_IMAGE_TAG)")
    parser.add_argument(
        "--repository", help="Artifact Registry repository (env LIGHTONOCR_ARTIFACT_REPO)"
    )
    parser.add_argument("--min", type=int, dest="min_instances", help="instance floor")
    parser.add_argument("--max", type=int, dest="max_instances", help="instance ceiling")
    parser.add_argument("--cpu", help="vCPU limit, e.g. 8")
    parser.add_argument("--memory", help="memory limit, e.g. 32Gi")
    parser.add_argument("--gpu-type", help="accelerator, e.g. nvidia-l4")
    parser.add_argument("--concurrency", type=int, help="max concurrent requests per instance")
    parser.add_argument(
        "--probe-delay",
        type=int,
        dest="probe_initial_delay_s",
        help="seconds before the first startup probe (0-240; default 120)",
    )
    parser.add_argument(
        "--service-account",
        help="runtime service account (env LIGHTONOCR_RUN_SERVICE_ACCOUNT)",
    )
    parser.add_argument(
        "--invoker",
        action="append",
        dest="invokers",
        metavar="MEMBER",
        help="grant roles/run.invoker to MEMBER after deploying (repeatable)",
    )


def spec_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> ServiceSpec:
    """Defaults, then environment, then flags (flags win)."""
    spec = ServiceSpec().with_env(env)
    changes: dict[str, object] = {
        name: getattr(args, name) for name in _SPEC_FLAGS if getattr(args, name) is not None
    }
    if args.invokers:
        changes["invokers"] = tuple(args.invokers)
    return dataclasses.replace(spec, **changes) if changes else spec
