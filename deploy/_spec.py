"""The one declarative description of the GPU OCR service, and where it runs.

`ServiceSpec` holds the seed deployment (issue 4) as defaults; the CLI and the environment
override single fields. It is validated on construction so a bad value fails before any
API call, and it cannot express public access: there is no field for it, and invoker
members that mean "everyone" are refused.

Choices worth knowing (see deploy/README.md):
- Scaling lives at the SERVICE level (`Service.scaling`, run_v2 `ServiceScaling`), not in
  the revision template: raising or dropping the floor is then a service update that
  creates no new revision, so it is quick and never restarts the model.
- The image is an immutable reference: a digest (`...@sha256:...`) or a commit tag (as
  cloudbuild.yaml tags every build). Cloud Run makes no new revision for an identical
  template, so re-applying a moved tag such as `:latest` would silently keep the old image.
- The startup probe is an HTTP GET on vLLM's /health (200 only once the engine is up) and
  uses the whole window Cloud Run allows a starting container: up to 240 s of initial delay
  plus up to 240 s of `failure_threshold * period_s`. A cold vLLM start streams a ~10 GB
  image, loads the weights, runs torch.compile and captures CUDA graphs, so the first probe
  waits 120 s (a start faster than that would wait for it; compare with the Metrics page's
  cold-start chart) and then 24 x 10 s follow: 360 s before Cloud Run gives up.
- Concurrency per instance is twice vLLM's `--max-num-seqs` (Google's GPU best practice:
  the parallel slots plus a batch's worth of queue). Cloud Run scales out when instances
  near their concurrency, so at exactly max-num-seqs one 8-page document would start a
  second GPU instance (minutes of cold start, then billed idle); above it, vLLM queues the
  extra requests on the instance that is already warm.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy._errors import InvalidSpec, PublicAccessRefused
from deploy.settings import DEFAULT_REGION, DEFAULT_SERVICE, SPEC_VARIABLES, DeploySettings
from gpu_image import serve_config
from ocr_core._variables import SettingsError

DEFAULT_REPOSITORY = "lightonocr"
IMAGE_NAME = "lightonocr-gpu"
RUNTIME_SA_ID = "lightonocr-run"  # created by deploy/setup_service_accounts.sh

# Cloud Run limits on startup probes: initial delay <= 240 s, period <= 240 s,
# failure_threshold * period <= 240 s, timeout <= period.
_PROBE_MAX_S = 240
# Immutable image references: a digest, or a tag that is a git commit (7-40 hex digits).
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
_COMMIT_TAG_RE = re.compile(r"^[0-9a-f]{7,40}$")
_GPU_MIN_CPU = 4.0
_GPU_MIN_MEMORY_BYTES = 16 * 1024**3
_PUBLIC_MEMBERS = frozenset({"allusers", "allauthenticatedusers"})
# Cloud Run's own ceilings for one instance, and the GPUs it offers services (issue 10 L7:
# "nan", "1e9" CPUs or a petabyte of memory must be refused here, not by a failed deploy).
_MAX_CPU = 8.0
_MAX_MEMORY_BYTES = 32 * 1024**3
_MAX_INSTANCES = 100
# Only the L4: Cloud Run's RTX PRO 6000 needs at least 20 vCPU and 80 GiB, past the caps above
# (and this model's needs), so offering it would only fail at deploy time.
GPU_TYPES = ("nvidia-l4",)
# A project id: lowercase letters, digits and hyphens, starting with a letter (at most 30;
# Google asks for 6, tests and emulators use shorter), optionally a legacy "domain:" prefix.
# Never a "/": the id lands inside resource names (projects/{id}/locations/...).
_PROJECT_RE = re.compile(r"^([a-z0-9.-]+:)?[a-z]([-a-z0-9]{0,28}[a-z0-9])?$")
_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
# Not "principalSet:": a set of identities (a whole workforce or workload pool, or every
# identity with an attribute) is as broad as a public grant can be, and has no place here.
_MEMBER_KINDS = ("user:", "serviceAccount:", "group:", "domain:", "principal:")
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """Which Cloud Run service: project, region and service name."""

    project: str
    region: str = DEFAULT_REGION
    service: str = DEFAULT_SERVICE

    def __post_init__(self) -> None:
        if not self.project:
            raise InvalidSpec(
                "No Google Cloud project: pass --project or set GOOGLE_CLOUD_PROJECT."
            )
        if not _PROJECT_RE.match(self.project):
            raise InvalidSpec(
                f"Project {self.project!r} is not a Google Cloud project id: lowercase "
                "letters, digits and hyphens, starting with a letter."
            )
        if not _REGION_RE.match(self.region):
            raise InvalidSpec(f"Region {self.region!r} is not a region like us-central1.")
        if not _NAME_RE.match(self.service):
            raise InvalidSpec(
                f"Service name {self.service!r} is not valid for Cloud Run: lowercase letters, "
                "digits and hyphens, starting with a letter, at most 49 characters."
            )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        project: str | None = None,
        region: str | None = None,
        service: str | None = None,
    ) -> ServiceTarget:
        """Explicit arguments win; else GOOGLE_CLOUD_PROJECT, LIGHTONOCR_REGION
        (default us-central1) and LIGHTONOCR_SERVICE (default lightonocr)."""
        settings = DeploySettings.from_env(env)
        return cls(
            project=project or settings.project,
            region=region or settings.region,
            service=service or settings.service,
        )

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def name(self) -> str:
        return f"{self.parent}/services/{self.service}"


def check_member(member: str) -> str:
    """Refuse IAM members that would make the service public, and malformed ones."""
    bare = member.strip()
    if bare.lower() in _PUBLIC_MEMBERS or bare.split(":", 1)[-1].lower() in _PUBLIC_MEMBERS:
        raise PublicAccessRefused(
            f"Refusing to grant access to {bare}: the OCR service is IAM-only and must never "
            "be public. Grant roles/run.invoker to a specific service account instead."
        )
    if bare.lower().startswith("principalset:"):
        raise PublicAccessRefused(
            f"Refusing to grant access to {bare}: a principal set stands for many identities "
            "(a whole pool). Grant roles/run.invoker to one service account or principal."
        )
    who = bare.partition(":")[2]
    if not bare.startswith(_MEMBER_KINDS) or not who.strip():
        raise InvalidSpec(
            f"IAM member {bare!r} must look like serviceAccount:NAME@PROJECT.iam.gserviceaccount"
            ".com (or user:, group:, domain:)."
        )
    return bare


def parse_cpu(value: str) -> float:
    """Cloud Run CPU strings: "8", "4", "1000m"."""
    text = value.strip()
    try:
        cpu = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise InvalidSpec(f"CPU limit {value!r} is not a number like '8' or '4000m'.") from None
    if not (math.isfinite(cpu) and 0 < cpu <= _MAX_CPU):
        raise InvalidSpec(f"CPU limit {value!r} must be more than 0 and at most {_MAX_CPU:g}.")
    return cpu


_MEMORY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_memory(value: str) -> int:
    """Cloud Run memory strings: "32Gi", "16384Mi", "20G"; bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|K|M|G)?\s*", value)
    if not match:
        raise InvalidSpec(f"Memory limit {value!r} is not a size like '32Gi' or '16384Mi'.")
    number, unit = match.groups()
    size = int(float(number) * _MEMORY_UNITS.get(unit or "", 1))
    if not 0 < size <= _MAX_MEMORY_BYTES:
        raise InvalidSpec(f"Memory limit {value!r} must be more than 0 and at most 32Gi.")
    return size


def _default_env() -> dict[str, str]:
    # The model is baked into the image: never reach for the Hub at run time.
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _default_labels() -> dict[str, str]:
    return {"app": "lightonocr", "managed-by": "lightonocr-deploy"}


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """Everything about the service except where it runs (that is the `ServiceTarget`)."""

    # None: {region}-docker.pkg.dev/{project}/{repository}/lightonocr-gpu:{tag}. Either must
    # be immutable: IMAGE@sha256:DIGEST, or a commit tag (git rev-parse HEAD).
    image: str | None = None
    repository: str = DEFAULT_REPOSITORY
    tag: str | None = None
    cpu: str = "8"
    memory: str = "32Gi"
    gpu_type: str = "nvidia-l4"
    gpu_count: int = 1
    gpu_zonal_redundancy_disabled: bool = True
    # False = CPU always allocated (instance-based billing); GPU services require it.
    cpu_idle: bool = False
    startup_cpu_boost: bool = True
    min_instances: int = 0
    max_instances: int = 3
    port: int = serve_config.DEFAULT_PORT
    probe_http_path: str = "/health"  # "" = a TCP probe on the port
    probe_initial_delay_s: int = 120
    probe_period_s: int = 10
    probe_timeout_s: int = 5
    probe_failure_threshold: int = 24
    concurrency: int = 2 * serve_config.MAX_NUM_SEQS
    # Above the client's whole attempt (cold start + queue + answer: 1230 s, 1350 s with the
    # longest probe), since Cloud Run counts the start inside it and answers 504 when it ends
    # (tests/deploy/test_timeouts.py); Cloud Run allows up to 3600 s.
    request_timeout_s: int = 1500
    # None: lightonocr-run@{project}.iam.gserviceaccount.com
    service_account: str | None = None
    env: Mapping[str, str] = field(default_factory=_default_env)
    labels: Mapping[str, str] = field(default_factory=_default_labels)
    # Members granted roles/run.invoker after apply (never allUsers).
    invokers: tuple[str, ...] = ()
    # The custom audience every caller mints ID tokens for (None: `audience_for`'s default).
    # Whether a tag URL accepts a token minted for the service URL is written nowhere; a
    # custom audience is accepted at every URL of the service, its tags' included.
    audience: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        cpu = parse_cpu(self.cpu)
        memory = parse_memory(self.memory)
        if self.gpu_count:
            if cpu < _GPU_MIN_CPU:
                problems.append(f"GPU services need at least 4 CPU (got {self.cpu})")
            if memory < _GPU_MIN_MEMORY_BYTES:
                problems.append(f"GPU services need at least 16Gi memory (got {self.memory})")
            if self.cpu_idle:
                problems.append(
                    "GPU services need CPU always allocated (cpu_idle False, no throttling)"
                )
            if self.gpu_count != 1:
                problems.append(
                    f"Cloud Run supports exactly 1 GPU per instance (got {self.gpu_count})"
                )
            if self.concurrency <= serve_config.MAX_NUM_SEQS:
                problems.append(
                    f"concurrency must be above vLLM's --max-num-seqs {serve_config.MAX_NUM_SEQS}"
                    f" (got {self.concurrency}): at or below it, one batch starts another GPU "
                    "instance"
                )
        if self.gpu_count and self.gpu_type not in GPU_TYPES:
            problems.append(
                f"GPU type must be one of {', '.join(GPU_TYPES)} (got {self.gpu_type!r})"
            )
        if self.max_instances > _MAX_INSTANCES:
            problems.append(
                f"at most {_MAX_INSTANCES} instances (got {self.max_instances}): each is a GPU"
            )
        if not 0 <= self.min_instances <= self.max_instances or self.max_instances < 1:
            problems.append(
                f"instances need 0 <= min <= max and max >= 1 "
                f"(got min {self.min_instances}, max {self.max_instances})"
            )
        if not 0 <= self.probe_initial_delay_s <= _PROBE_MAX_S:
            problems.append("startup probe initial delay must be 0..240 s")
        if not 1 <= self.probe_timeout_s <= self.probe_period_s <= _PROBE_MAX_S:
            problems.append("startup probe needs 1 <= timeout <= period <= 240 s")
        probe_window = self.probe_failure_threshold * self.probe_period_s
        if self.probe_failure_threshold < 1 or probe_window > _PROBE_MAX_S:
            problems.append(
                "startup probe failure_threshold * period must be 1..240 s "
                f"(got {self.probe_failure_threshold} * {self.probe_period_s})"
            )
        if not 1 <= self.concurrency <= 1000:
            problems.append(f"concurrency must be 1..1000 (got {self.concurrency})")
        if not 1 <= self.request_timeout_s <= 3600:
            problems.append(f"request timeout must be 1..3600 s (got {self.request_timeout_s})")
        problems.extend(_mutable_image_problems(self.image, self.tag))
        if problems:
            raise InvalidSpec("Invalid service spec: " + "; ".join(problems) + ".")
        for member in self.invokers:
            check_member(member)

    @property
    def startup_window_s(self) -> int:
        """How long a starting container may take before Cloud Run gives up on it."""
        return self.probe_initial_delay_s + self.probe_failure_threshold * self.probe_period_s

    def image_for(self, target: ServiceTarget) -> str:
        if self.image:
            return self.image
        if not self.tag:
            raise InvalidSpec(
                "No image to deploy: pass --tag COMMIT (cloudbuild.yaml tags each build with "
                "its commit: --tag $(git rev-parse HEAD)) or --image REF@sha256:DIGEST."
            )
        return (
            f"{target.region}-docker.pkg.dev/{target.project}/{self.repository}/"
            f"{IMAGE_NAME}:{self.tag}"
        )

    def audience_for(self, target: ServiceTarget) -> str:
        """A URL that names this service and no host (.invalid is reserved, RFC 2606)."""
        default = f"https://{target.service}.{target.region}.{target.project}.run.invalid"
        return self.audience or default

    def service_account_for(self, target: ServiceTarget) -> str:
        return self.service_account or f"{RUNTIME_SA_ID}@{target.project}.iam.gserviceaccount.com"

    def with_env(self, env: Mapping[str, str] | None = None) -> ServiceSpec:
        """This spec with overrides from LIGHTONOCR_IMAGE, LIGHTONOCR_IMAGE_TAG,
        LIGHTONOCR_ARTIFACT_REPO, LIGHTONOCR_MIN_INSTANCES, LIGHTONOCR_MAX_INSTANCES and
        LIGHTONOCR_RUN_SERVICE_ACCOUNT (unset or empty variables leave the field alone)."""
        try:
            settings = DeploySettings.from_env(env)
        except SettingsError as bad:
            raise InvalidSpec(f"{bad}.") from None
        changes = {
            v.field: value
            for v in SPEC_VARIABLES
            if (value := getattr(settings, v.field)) is not None
        }
        return dataclasses.replace(self, **changes) if changes else self


def _mutable_image_problems(image: str | None, tag: str | None) -> list[str]:
    """Why a reference could change under us (empty when it cannot)."""
    if image:
        last = image.rsplit("/", 1)[-1]
        if _DIGEST_RE.search(image):
            return []
        if ":" in last and _COMMIT_TAG_RE.match(last.rsplit(":", 1)[1]):
            return []
        return [
            f"image {image!r} is not immutable: use IMAGE@sha256:DIGEST (gcloud artifacts "
            "docker images describe IMAGE:TAG --format 'value(image_summary.digest)') or a "
            "commit tag, because Cloud Run makes no new revision when the reference is unchanged"
        ]
    if tag and not _COMMIT_TAG_RE.match(tag):
        return [
            f"tag {tag!r} can move: deploy the commit tag cloudbuild.yaml pushed "
            "(--tag $(git rev-parse HEAD)) or --image REF@sha256:DIGEST, because Cloud Run makes "
            "no new revision when the reference is unchanged"
        ]
    return []
