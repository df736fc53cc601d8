"""Apply the spec and operate the service with google-cloud-run (run_v2).

`CloudRunDeployer` is shared by the CLI and the console's cloudrun platform, so scaling
from the console and from a terminal are the same request. Google clients come in through
the constructor (tests hand in clients on an insecure loopback channel to fake servers);
when none are given they are built lazily on first use, from LIGHTONOCR_RUN_ENDPOINT
(loopback only, for tests and local emulators) or else Application Default Credentials.
Every Google failure leaves as a `CloudError` that names the action and, for permission
errors, the role that would allow it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import grpc
from google.api_core import exceptions as gexc
from google.api_core.operation import Operation
from google.auth import exceptions as auth_exc
from google.cloud import run_v2
from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport
from google.iam.v1 import iam_policy_pb2
from google.protobuf import field_mask_pb2

from deploy._errors import (
    CloudError,
    CloudUnavailable,
    InvalidSpec,
    PublicAccessRefused,
    ServiceNotFound,
    explain_google_error,
)
from deploy._info import (
    BY_REVISION,
    RevisionInfo,
    ServiceInfo,
    revision_info,
    service_info,
    short_name,
    traffic_by_revision,
)
from deploy._request import build_service, with_kept_tags
from deploy._spec import ServiceSpec, ServiceTarget, check_member
from deploy.settings import RUN_ENDPOINT, DeploySettings

INVOKER_ROLE = "roles/run.invoker"
_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
_VIEWER = "roles/run.viewer"
_DEVELOPER = "roles/run.developer"
_ADMIN = "roles/run.admin"  # setting IAM policy needs run.services.setIamPolicy
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def _loopback_channel(env: Mapping[str, str]) -> grpc.Channel | None:
    endpoint = DeploySettings.from_env(env).run_endpoint or ""
    if not endpoint:
        return None
    host = endpoint.rpartition(":")[0] if ":" in endpoint else endpoint
    if host not in _LOOPBACK_HOSTS:  # an exact host: "localhost.evil.example" is not loopback
        raise InvalidSpec(
            f"{RUN_ENDPOINT.name}={endpoint!r}: only loopback endpoints (127.0.0.1:PORT) are "
            "allowed; the channel is unencrypted and meant for fake servers and emulators."
        )
    return grpc.insecure_channel(endpoint)


@contextlib.contextmanager
def _explained(action: str, role: str, project: str) -> Iterator[None]:
    """Turn any Google failure inside the block into the CloudError a person can act on."""
    try:
        yield
    except concurrent.futures.TimeoutError as exc:
        raise CloudUnavailable(
            f"Cloud Run did not finish {action} in time.",
            action=action,
            hint="The operation may still complete: check `python -m deploy status`.",
        ) from exc
    except (gexc.GoogleAPIError, auth_exc.GoogleAuthError) as exc:
        raise explain_google_error(exc, action=action, role=role, project=project) from exc


class CloudRunDeployer:
    """Create/update, inspect, scale, roll back and share one Cloud Run service."""

    def __init__(
        self,
        target: ServiceTarget,
        *,
        services_client: run_v2.ServicesClient | None = None,
        revisions_client: run_v2.RevisionsClient | None = None,
        operation_timeout_s: float = 900,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target
        self.operation_timeout_s = operation_timeout_s
        self._services = services_client
        self._revisions = revisions_client
        self._env = os.environ if env is None else env

    # --- clients ---------------------------------------------------------------------------

    def _build_clients(self) -> None:
        with _explained("connecting to Cloud Run", _VIEWER, self.target.project):
            channel = _loopback_channel(self._env)
            if channel is not None:
                services = run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=channel))
                revisions = run_v2.RevisionsClient(
                    transport=RevisionsGrpcTransport(channel=channel)
                )
            else:
                services, revisions = run_v2.ServicesClient(), run_v2.RevisionsClient()
        self._services = self._services or services
        self._revisions = self._revisions or revisions

    @property
    def services_client(self) -> run_v2.ServicesClient:
        if self._services is None:
            self._build_clients()
        assert self._services is not None
        return self._services

    @property
    def revisions_client(self) -> run_v2.RevisionsClient:
        if self._revisions is None:
            self._build_clients()
        assert self._revisions is not None
        return self._revisions

    def _explained(self, action: str, role: str) -> contextlib.AbstractContextManager[None]:
        return _explained(f"{action} service {self.target.service}", role, self.target.project)

    # --- operations ------------------------------------------------------------------------

    def build_service(self, spec: ServiceSpec) -> run_v2.Service:
        """The exact request `apply` sends (the dry run prints it); contacts nothing."""
        return build_service(self.target, spec)

    def _get(self) -> run_v2.Service:
        return self.services_client.get_service(name=self.target.name)

    def _wait(self, operation: Operation) -> run_v2.Service:
        return operation.result(timeout=self.operation_timeout_s)

    def _update(
        self, service: run_v2.Service, *fields: str, read: run_v2.Service
    ) -> run_v2.Service:
        """Send `service`; with `fields`, only those (an update_mask), so a change of
        floor or traffic cannot overwrite anything else, nor fields this client library is too
        old to know. Always with the etag of `read` (the service as this change was decided
        on): a service changed since (another canary, deploy or rollback) is refused by Cloud
        Run and nothing of it is overwritten (issue 31, item 5)."""
        service.etag = read.etag
        request = run_v2.UpdateServiceRequest(service=service)
        if fields:
            request.update_mask = field_mask_pb2.FieldMask(paths=list(fields))
        return self._wait(self.services_client.update_service(request=request))

    def apply(self, spec: ServiceSpec) -> ServiceInfo:
        """Create the service or bring it to the spec; waits for the rollout to finish.

        Refuses to touch a service whose IAM policy makes it public (someone granted
        allUsers by hand): that has to be removed first, on purpose."""
        return self._apply(self.build_service(spec), spec.invokers)

    def _apply(self, service: run_v2.Service, invokers: Sequence[str]) -> ServiceInfo:
        """Create `service` or update it to this message, then grant the invokers: the one
        apply of the GPU service and the console."""
        with self._explained("deploying", _DEVELOPER):
            try:
                current = self._get()
            except gexc.NotFound:
                service.name = ""  # CreateService composes it from parent + service_id
                operation = self.services_client.create_service(
                    parent=self.target.parent, service=service, service_id=self.target.service
                )
                result = self._wait(operation)
            else:
                self._refuse_public_policy()
                service.traffic = with_kept_tags(service.traffic, current.traffic)
                result = self._update(service, read=current)
        for member in invokers:
            self.grant_invoker(member)
        return service_info(result)

    def _refuse_public_policy(self) -> None:
        policy = self.services_client.get_iam_policy(
            request=iam_policy_pb2.GetIamPolicyRequest(resource=self.target.name)
        )
        public = sorted({m for b in policy.bindings for m in b.members if m in _PUBLIC_MEMBERS})
        if public:
            raise PublicAccessRefused(
                f"Service {self.target.service} is public ({', '.join(public)} can invoke it); "
                "refusing to deploy. Remove the binding first: gcloud run services "
                f"remove-iam-policy-binding {self.target.service} --region "
                f"{self.target.region} --member {public[0]} --role {INVOKER_ROLE}"
            )

    def status(self) -> ServiceInfo:
        with self._explained("reading", _VIEWER):
            return service_info(self._get())

    def scale(
        self, *, min_instances: int | None = None, max_instances: int | None = None
    ) -> ServiceInfo:
        """Set the service-level floor and/or ceiling; creates no new revision.

        min 0 lets Cloud Run retire idle instances (scale to zero); it does so on its own
        schedule once they are idle, not at once."""
        with self._explained("scaling", _DEVELOPER):
            service = self._get()
            info = service_info(service)
            floor = info.min_instances if min_instances is None else min_instances
            ceiling = info.max_instances if max_instances is None else max_instances
            if not 0 <= floor <= ceiling or ceiling < 1:
                raise InvalidSpec(
                    f"Cannot scale {self.target.service} to min {floor} / max {ceiling}: "
                    "need 0 <= min <= max and max >= 1."
                )
            change = run_v2.Service(
                name=service.name,
                scaling=run_v2.ServiceScaling(min_instance_count=floor, max_instance_count=ceiling),
            )
            return service_info(self._update(change, "scaling", read=service))

    def _revision_list(self, service: run_v2.Service) -> list[RevisionInfo]:
        traffic = traffic_by_revision(service)
        revisions = [
            revision_info(revision, traffic)
            for revision in self.revisions_client.list_revisions(parent=self.target.name)
        ]
        return sorted(revisions, key=lambda r: r.create_time or datetime.min, reverse=True)

    def revisions(self) -> list[RevisionInfo]:
        """Newest first, each with its share of traffic."""
        with self._explained("listing revisions of", _VIEWER):
            return self._revision_list(self._get())

    def rollback(self, revision: str | None = None) -> ServiceInfo:
        """Send all traffic to `revision`, or to the newest ready revision older than the
        one serving now. Later `apply` calls send traffic back to the latest revision."""
        with self._explained("rolling back", _DEVELOPER):
            service = self._get()
            revisions = self._revision_list(service)
            target = self._rollback_target(revisions, revision)
            wanted = [run_v2.TrafficTarget(type_=BY_REVISION, revision=target, percent=100)]
            change = run_v2.Service(
                name=service.name, traffic=with_kept_tags(wanted, service.traffic)
            )
            return service_info(self._update(change, "traffic", read=service))

    def set_traffic(self, split: Mapping[str, int]) -> ServiceInfo:
        """Send each revision its percent of the traffic (`{"a": 90, "b": 10}`; one at 100 is
        a rollback). Every revision must exist and be ready, and the percents add up to 100.
        Sent under an update_mask on `traffic`, so nothing else of the service changes."""
        action = f"splitting traffic of service {self.target.service}"
        hint = "See the revisions with `python -m deploy revisions`."
        wanted = {short_name(name): percent for name, percent in split.items() if percent}
        if not wanted or sum(wanted.values()) != 100 or min(wanted.values()) < 0:
            raise InvalidSpec(
                f"Traffic percents must be 0 to 100 and add up to 100 (got {dict(split)})."
            )
        with self._explained("splitting traffic of", _DEVELOPER):
            service = self._get()
            known = {r.name: r for r in self._revision_list(service)}
            for name in wanted:
                if name not in known:
                    raise ServiceNotFound(
                        f"Revision {name} does not exist.", action=action, hint=hint
                    )
                if not known[name].ready:
                    raise CloudError(
                        f"Revision {name} is not ready; it cannot take traffic.",
                        action=action,
                        hint=hint,
                    )
            targets = [
                run_v2.TrafficTarget(type_=BY_REVISION, revision=name, percent=percent)
                for name, percent in wanted.items()
            ]
            change = run_v2.Service(
                name=service.name, traffic=with_kept_tags(targets, service.traffic)
            )
            return service_info(self._update(change, "traffic", read=service))

    def deploy_candidate(
        self, spec: ServiceSpec, tag: str, *, keep_scaling: bool = True
    ) -> tuple[str, str]:
        """Create the spec's revision with no traffic under revision tag `tag`; returns
        (revision, its tagged URL). Traffic stays exactly where it was (pinned by revision),
        so the candidate serves only requests sent to its own URL; so do the service's floor
        and ceiling unless `keep_scaling` is False (the update is a full one: without this a
        keep-warm floor would drop to the spec's)."""
        with self._explained("deploying a candidate of", _DEVELOPER):
            current = self._get()
            self._refuse_public_policy()
            service = self.build_service(spec)
            if keep_scaling:
                service.scaling = current.scaling
            serving = [
                run_v2.TrafficTarget(type_=BY_REVISION, revision=name, percent=percent)
                for name, percent in traffic_by_revision(current).items()
                if percent > 0
            ]
            others = [t for t in current.traffic if t.tag != tag]
            latest = run_v2.TrafficTarget(type_=_LATEST, percent=0, tag=tag)
            service.traffic = with_kept_tags([*serving, latest], others)
            created = self._update(service, read=current)
            revision = short_name(created.latest_created_revision)
            if created.latest_ready_revision != created.latest_created_revision:
                raise CloudError(
                    f"Revision {revision} did not become ready.",
                    action=f"deploying a candidate of service {self.target.service}",
                )
            # Pin the tag to the revision, so a later deploy cannot move it; read again, so the
            # etag is the service's as it is now and the pin is refused if a deploy landed.
            now = self._get()
            pinned = [
                run_v2.TrafficTarget(type_=BY_REVISION, revision=revision, percent=0, tag=tag)
                if t.tag == tag and t.type_ == _LATEST
                else t
                for t in now.traffic
            ]
            if short_name(now.latest_created_revision) != revision:
                raise CloudError(
                    f"Another revision was deployed while candidate {revision} was created.",
                    action=f"deploying a candidate of service {self.target.service}",
                    hint="Another deploy or canary is running: wait for it, then retry.",
                )
            change = run_v2.Service(name=now.name, traffic=pinned)
            settled = self._update(change, "traffic", read=now)
        url = next((t.uri for t in settled.traffic_statuses if t.tag == tag), "")
        if not url:
            raise CloudError(f"Cloud Run gave tag {tag} no URL.", action="deploying a candidate")
        return revision, url

    def promote(self, revision: str) -> ServiceInfo:
        """All traffic to `revision`, every tag kept (the canary's too, for inspection)."""
        return self.set_traffic({revision: 100})

    def _rollback_target(self, revisions: list[RevisionInfo], wanted: str | None) -> str:
        action = f"rolling back service {self.target.service}"
        hint = "See the revisions with `python -m deploy revisions`."
        if wanted is not None:
            name = short_name(wanted)
            match = next((r for r in revisions if r.name == name), None)
            if match is None:
                raise ServiceNotFound(f"Revision {name} does not exist.", action=action, hint=hint)
            if not match.ready:
                raise CloudError(
                    f"Revision {name} is not ready; it cannot take traffic.",
                    action=action,
                    hint=hint,
                )
            return name
        serving = [r for r in revisions if r.traffic_percent > 0]
        newest_serving = serving[0] if serving else None
        older = (
            revisions[revisions.index(newest_serving) + 1 :] if newest_serving else revisions[1:]
        )
        previous = next((r for r in older if r.ready), None)
        if previous is None:
            raise CloudError(
                "No ready revision older than the one serving now: nothing to roll back to.",
                action=action,
                hint=hint,
            )
        return previous.name

    def grant_invoker(self, member: str) -> None:
        """Add `member` to roles/run.invoker on this service only (read-modify-write of
        the service's IAM policy, keeping its etag so concurrent edits are not lost)."""
        member = check_member(member)
        with self._explained("granting roles/run.invoker on", _ADMIN):
            policy = self.services_client.get_iam_policy(
                request=iam_policy_pb2.GetIamPolicyRequest(resource=self.target.name)
            )
            binding = next((b for b in policy.bindings if b.role == INVOKER_ROLE), None)
            if binding is None:
                binding = policy.bindings.add(role=INVOKER_ROLE)
            if member in binding.members:
                return
            binding.members.append(member)
            self.services_client.set_iam_policy(
                request=iam_policy_pb2.SetIamPolicyRequest(resource=self.target.name, policy=policy)
            )
