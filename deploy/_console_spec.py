"""The console as a team service on Cloud Run: its spec and the Service request it becomes.

What makes it safe to share, all in the request (the dry run shows it):
- Identity-Aware Proxy on the service itself (run_v2 `Service.iap_enabled`): nobody reaches
  the container without signing in, and the console trusts only IAP's signed assertion
  (`LIGHTONOCR_IDENTITY=iap`, audience `/projects/NUMBER/locations/REGION/services/NAME`).
- No public invoker: `invoker_iam_disabled` stays False and the deploy refuses allUsers /
  allAuthenticatedUsers (in the spec and on the live policy), as the GPU deploy does.
- Session affinity: Streamlit keeps each browser's session on one instance (a websocket,
  and reconnects after it drops); the request timeout is Cloud Run's hour.
- CPU always allocated: the job runner sends pages between requests.
- Its own service account (`lightonocr-console@`), with the roles in README "Team deployment".
- A shared database: a console on Cloud Run has no disk that outlives an instance, so the
  spec needs PostgreSQL (`LIGHTONOCR_DATABASE_URL`): a Secret Manager secret that holds the
  URL with its password (the way to use), or a URL for a server that takes none. A URL with
  a password in it is refused: it would sit in plain text in the revision. No Cloud SQL IAM
  login is claimed: Cloud Run's built-in /cloudsql socket passes connections through and
  mints no IAM token (that would take the Cloud SQL Python Connector with
  enable_iam_auth, which the console does not use).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from google.cloud import run_v2
from google.protobuf import duration_pb2

from deploy._errors import InvalidSpec
from deploy._spec import (
    DEFAULT_REPOSITORY,
    DEFAULT_SERVICE,
    ServiceTarget,
    _mutable_image_problems,
    check_member,
    parse_cpu,
    parse_memory,
)

CONSOLE_IMAGE_NAME = "lightonocr-console"
# A handful of console instances serve a team; more only multiply database connections.
_MAX_CONSOLE_INSTANCES = 10
# An operator or viewer entry: a whole e-mail, or @domain for everyone there.
_PERSON_RE = re.compile(
    r"^(?:[^@\s,]+@|@)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
CONSOLE_SA_ID = "lightonocr-console"  # created by the README's commands
CONSOLE_PORT = 8080
CLOUDSQL_MOUNT = "/cloudsql"
_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
_CLOUDSQL_RE = re.compile(r"^[a-z][-a-z0-9:.]*:[a-z]+-[a-z]+[0-9]+:[a-z][-a-z0-9]*$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_HOST_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


# GCS bucket names: 3-63 of lowercase letters, digits, dots, dashes and underscores.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


def _default_labels() -> dict[str, str]:
    return {"app": "lightonocr-console", "managed-by": "lightonocr-deploy"}


@dataclass(frozen=True, slots=True)
class ConsoleSpec:
    """Everything about the console service but where it runs (a `ServiceTarget`)."""

    # The project NUMBER (not id): IAP's audience and the service's run.app name hold it.
    project_number: str
    # The GPU service the console operates, and its URL (read from Cloud Run when absent).
    gpu_service: str = DEFAULT_SERVICE
    service_url: str | None = None
    image: str | None = None
    repository: str = DEFAULT_REPOSITORY
    tag: str | None = None
    database_url: str | None = None
    database_url_secret: str | None = None  # Secret Manager secret holding the URL
    cloudsql_instance: str | None = None  # PROJECT:REGION:INSTANCE, mounted at /cloudsql
    # The GCS bucket for uploaded documents (LIGHTONOCR_BUCKET): an instance's disk dies
    # with it, and the bytes must not sit in database rows.
    bucket: str | None = None
    operators: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()  # custom domains in front of the service, if any
    # From `python -m console.bench_footprint` (deploy/README.md, "The console's size"): a
    # 200-page job with words peaks at 1.43 GB over the console's processes; with a page view,
    # a 200 MB upload held by Streamlit, the in-memory disk's document copy and object copies
    # and one render worker at its 1 GB limit, 3.5 GB. Two vCPUs: the word locator, the render
    # workers and Streamlit run side by side.
    cpu: str = "2"
    memory: str = "4Gi"
    # One instance stays up: jobs keep running with nobody looking, and no one waits.
    min_instances: int = 1
    max_instances: int = 3
    service_account: str | None = None
    # roles/run.invoker after apply: IAP's service agent (never allUsers).
    invokers: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_default_labels)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.project_number.isdigit():
            problems.append(
                f"project number {self.project_number!r} must be digits (gcloud projects "
                "describe PROJECT --format 'value(projectNumber)')"
            )
        parse_cpu(self.cpu)
        parse_memory(self.memory)
        if not 0 <= self.min_instances <= self.max_instances or self.max_instances < 1:
            problems.append("instances need 0 <= min <= max and max >= 1")
        if self.max_instances > _MAX_CONSOLE_INSTANCES:
            problems.append(
                f"at most {_MAX_CONSOLE_INSTANCES} console instances (got "
                f"{self.max_instances}): each holds database connections and a worker"
            )
        for role, entries in (("operator", self.operators), ("viewer", self.viewers)):
            problems += [
                f"{role} {entry!r} is not an e-mail or @domain"
                for entry in entries
                if not _PERSON_RE.match(entry)
            ]
        problems.extend(_mutable_image_problems(self.image, self.tag))
        problems.extend(self._database_problems())
        if self.bucket is None:
            problems.append(
                "no bucket: name the GCS bucket for uploaded documents with --bucket (an "
                "instance's disk dies with it)"
            )
        elif not _BUCKET_RE.match(self.bucket):
            problems.append(f"bucket {self.bucket!r} is not a GCS bucket name")
        if not self.operators:
            problems.append(
                "no operators: name at least one e-mail or @domain with --operator, or nobody "
                "can warm up, scale or run jobs"
            )
        for host in self.hosts:
            if not _HOST_RE.match(host):
                problems.append(f"host {host!r} is not a DNS name")
        if self.service_url is not None and not self.service_url.startswith("https://"):
            problems.append(f"GPU service URL {self.service_url!r} must be https://")
        if problems:
            raise InvalidSpec("Invalid console spec: " + "; ".join(problems) + ".")
        for member in self.invokers:
            check_member(member)

    def _database_problems(self) -> list[str]:
        problems = []
        if self.cloudsql_instance and not _CLOUDSQL_RE.match(self.cloudsql_instance):
            problems.append(f"Cloud SQL instance {self.cloudsql_instance!r} is not P:REGION:NAME")
        if (self.database_url is None) == (self.database_url_secret is None):
            problems.append(
                "the console on Cloud Run needs its shared PostgreSQL: give "
                "--database-url-secret SECRET (the URL with its password, in Secret Manager) "
                "or --database-url for a server that takes no password"
            )
        elif self.database_url_secret is not None:
            if not _SECRET_RE.match(self.database_url_secret):
                problems.append(f"secret name {self.database_url_secret!r} is not valid")
        else:
            url = urlsplit(self.database_url or "")
            query = {key.lower() for key, _ in parse_qsl(url.query, keep_blank_values=True)}
            if url.password or "password" in query:
                problems.append(
                    "--database-url holds a password, which would sit in plain text in the "
                    "revision: put the URL in Secret Manager and pass --database-url-secret"
                )
            if not url.scheme.startswith("postgresql"):
                problems.append(
                    "--database-url must be PostgreSQL, postgresql+psycopg://... (SQLite "
                    "would die with its instance)"
                )
        return problems

    def image_for(self, target: ServiceTarget) -> str:
        if self.image:
            return self.image
        if not self.tag:
            raise InvalidSpec(
                "No console image to deploy: pass --tag COMMIT (console_image/cloudbuild.yaml "
                "tags each build with its commit) or --image REF@sha256:DIGEST."
            )
        return (
            f"{target.region}-docker.pkg.dev/{target.project}/{self.repository}/"
            f"{CONSOLE_IMAGE_NAME}:{self.tag}"
        )

    def service_account_for(self, target: ServiceTarget) -> str:
        return self.service_account or f"{CONSOLE_SA_ID}@{target.project}.iam.gserviceaccount.com"

    def iap_audience(self, target: ServiceTarget) -> str:
        """What IAP signs its assertions for when it guards a Cloud Run service directly."""
        where = f"locations/{target.region}/services/{target.service}"
        return f"/projects/{self.project_number}/{where}"

    def served_hosts(self, target: ServiceTarget) -> tuple[str, ...]:
        """The service's deterministic run.app name, then any custom domains."""
        own = f"{target.service}-{self.project_number}.{target.region}.run.app"
        return (own, *self.hosts)

    def with_service_url(self, url: str) -> ConsoleSpec:
        return dataclasses.replace(self, service_url=url)


def console_env(target: ServiceTarget, spec: ConsoleSpec) -> list[run_v2.EnvVar]:
    """The console's environment: identity through IAP, the GPU service, the database."""
    if spec.service_url is None:
        raise InvalidSpec(
            "No GPU service URL: pass --service-url (the dry run contacts nothing; apply "
            "reads it from Cloud Run)."
        )
    plain = {
        "LIGHTONOCR_IDENTITY": "iap",
        "LIGHTONOCR_IAP_AUDIENCE": spec.iap_audience(target),
        "LIGHTONOCR_CONSOLE_HOSTS": ",".join(spec.served_hosts(target)),
        "LIGHTONOCR_SERVICE_URL": spec.service_url,
        "LIGHTONOCR_SERVICE": spec.gpu_service,
        "LIGHTONOCR_REGION": target.region,
        "GOOGLE_CLOUD_PROJECT": target.project,
        "LIGHTONOCR_OPERATORS": ",".join(spec.operators),
    }
    if spec.viewers:
        plain["LIGHTONOCR_VIEWERS"] = ",".join(spec.viewers)
    if spec.database_url is not None:
        plain["LIGHTONOCR_DATABASE_URL"] = spec.database_url
    if spec.bucket is not None:
        plain["LIGHTONOCR_BUCKET"] = spec.bucket
    env = [run_v2.EnvVar(name=name, value=value) for name, value in sorted(plain.items())]
    if spec.database_url_secret is not None:
        secret = run_v2.SecretKeySelector(secret=spec.database_url_secret, version="latest")
        env.append(
            run_v2.EnvVar(
                name="LIGHTONOCR_DATABASE_URL",
                value_source=run_v2.EnvVarSource(secret_key_ref=secret),
            )
        )
    return env


CONSOLE_COMMAND = ("python", "-m", "console_image.entrypoint")


def build_console_service(target: ServiceTarget, spec: ConsoleSpec) -> run_v2.Service:
    """The exact Service `console apply` sends; contacts nothing."""
    container = run_v2.Container(
        name="console",
        image=spec.image_for(target),
        # The image's entrypoint, said here so the dry-run shows what runs: the worker and
        # Streamlit as one supervised pair (`python -m console`, console_image/entrypoint.py).
        command=list(CONSOLE_COMMAND),
        ports=[run_v2.ContainerPort(name="http1", container_port=CONSOLE_PORT)],
        env=console_env(target, spec),
        resources=run_v2.ResourceRequirements(
            limits={"cpu": spec.cpu, "memory": spec.memory},
            cpu_idle=False,
            startup_cpu_boost=True,  # Streamlit's and the worker's imports at each start
        ),
        startup_probe=run_v2.Probe(
            http_get=run_v2.HTTPGetAction(path="/_stcore/health", port=CONSOLE_PORT),
            period_seconds=5,
            failure_threshold=24,
            timeout_seconds=3,
        ),
    )
    template = run_v2.RevisionTemplate(
        labels=dict(spec.labels),
        service_account=spec.service_account_for(target),
        # A Streamlit session is one websocket: this long, and back to the same instance.
        timeout=duration_pb2.Duration(seconds=3600),
        session_affinity=True,
        max_instance_request_concurrency=80,
        execution_environment=run_v2.ExecutionEnvironment.EXECUTION_ENVIRONMENT_GEN2,
        containers=[container],
    )
    if spec.cloudsql_instance:
        template.volumes = [
            run_v2.Volume(
                name="cloudsql",
                cloud_sql_instance=run_v2.CloudSqlInstance(instances=[spec.cloudsql_instance]),
            )
        ]
        container.volume_mounts = [run_v2.VolumeMount(name="cloudsql", mount_path=CLOUDSQL_MOUNT)]
        template.containers = [container]
    return run_v2.Service(
        name=target.name,
        labels=dict(spec.labels),
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        invoker_iam_disabled=False,
        iap_enabled=True,
        scaling=run_v2.ServiceScaling(
            min_instance_count=spec.min_instances, max_instance_count=spec.max_instances
        ),
        traffic=[run_v2.TrafficTarget(type_=_LATEST, percent=100)],
        template=template,
    )
