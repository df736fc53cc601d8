"""In-process fake of the Cloud Run Admin API v2 (Services, Revisions, service IAM) over gRPC.

The real `google-cloud-run` clients talk to it through an insecure loopback channel, so
tests exercise the real request building, LRO handling and error mapping. It keeps state
like Cloud Run does where our code depends on it: a template change creates a revision, a
traffic or scaling change does not; operations come back done with the Service packed in
(or stay pending for `pending_polls` GetOperation calls; a rollout whose revision never
becomes ready ends in an operation error); IAM policies carry etags. Every request is
recorded for assertions, and any RPC can be made to fail with a chosen gRPC status.

    fake = FakeRun(); fake.start()
    deployer = CloudRunDeployer(target, services_client=fake.services_client(),
                                revisions_client=fake.revisions_client())
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.cloud import run_v2
from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.longrunning import operations_pb2
from google.protobuf import any_pb2

from tests.fakes._grpc import LoopbackGrpc
from tests.fakes._run_rules import _Abort, _masked, _ready_condition, _template_key

_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
_FAILED = run_v2.Condition.State.CONDITION_FAILED
_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
_BY_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request the fake received: the RPC name and the decoded request message."""

    method: str
    request: Any


@dataclass(slots=True)
class _Failure:
    code: grpc.StatusCode
    message: str
    remaining: int | None  # None: fail forever


class FakeRun:
    """Cloud Run v2 Services + Revisions + IAM on 127.0.0.1, with state and a request log."""

    def __init__(self) -> None:
        self.services: dict[str, run_v2.Service] = {}
        self.revisions: dict[str, list[run_v2.Revision]] = {}  # by service name
        self.policies: dict[str, policy_pb2.Policy] = {}
        self.requests: list[Recorded] = []
        # Whether revisions created from now on become ready. False: a failed rollout, whose
        # operation ends in FAILED_PRECONDITION as Cloud Run's does.
        self.new_revisions_ready = True
        # How many GetOperation polls answer "not done yet" before the result (None: never).
        self.pending_polls: int | None = 0
        self.tag_urls: dict[str, str] = {}  # revision tag -> its URL (a local server in tests)
        # Run (once) at the start of the next UpdateService, under the fake's lock: e.g.
        # `touch`, another writer's change between a client's read and its write.
        self.interleave: Callable[[], None] | None = None
        self._operations: dict[str, list[Any]] = {}  # name -> [final operation, polls left]
        self._failures: dict[str, _Failure] = {}
        self._lock = threading.Lock()
        self._grpc = LoopbackGrpc(max_workers=4)
        self.address = ""

    # --- lifecycle and clients -------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free loopback port; returns "127.0.0.1:PORT"."""
        self.address = self._grpc.start(self._handlers())
        return self.address

    def stop(self) -> None:
        self._grpc.stop()

    def _channel(self) -> grpc.Channel:
        return self._grpc.channel()

    def services_client(self) -> run_v2.ServicesClient:
        return run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=self._channel()))

    def revisions_client(self) -> run_v2.RevisionsClient:
        return run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=self._channel()))

    # --- test controls ---------------------------------------------------------------------

    def fail(
        self, method: str, code: grpc.StatusCode, message: str = "", *, times: int | None = 1
    ) -> None:
        """Make the next `times` calls of `method` (e.g. "UpdateService") end with `code`."""
        self._failures[method] = _Failure(code, message or f"injected {code.name}", times)

    def requests_for(self, method: str) -> list[Any]:
        return [r.request for r in self.requests if r.method == method]

    def set_revision_ready(self, service_name: str, revision: str, ready: bool) -> None:
        """Mark an existing revision (short name) ready or failed."""
        with self._lock:
            for rev in self.revisions.get(service_name, []):
                if rev.name.rsplit("/", 1)[-1] == revision:
                    rev.conditions = [_ready_condition(ready)]

    def touch(self, service_name: str) -> None:
        """Another writer's update that changes nothing we look at but the etag (call it
        from `interleave`, which holds the lock)."""
        self._store(run_v2.Service(self.services[service_name]), template_changed=False)

    # --- plumbing --------------------------------------------------------------------------

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        def unary(method: str, impl: Callable[[Any], Any], req_type: Any, resp: Any) -> Any:
            def handler(request: Any, context: grpc.ServicerContext) -> Any:
                with self._lock:
                    self.requests.append(Recorded(method, request))
                    failure = self._failures.get(method)
                    if failure is not None and failure.remaining != 0:
                        if failure.remaining is not None:
                            failure.remaining -= 1
                        context.abort(failure.code, failure.message)
                    try:
                        return impl(request)
                    except _Abort as abort:
                        context.abort(abort.code, abort.message)

            return grpc.unary_unary_rpc_method_handler(
                handler, request_deserializer=req_type, response_serializer=resp
            )

        op_out = operations_pb2.Operation.SerializeToString
        services = {
            "GetService": unary(
                "GetService",
                self._get_service,
                run_v2.GetServiceRequest.deserialize,
                run_v2.Service.serialize,
            ),
            "ListServices": unary(
                "ListServices",
                self._list_services,
                run_v2.ListServicesRequest.deserialize,
                run_v2.ListServicesResponse.serialize,
            ),
            "CreateService": unary(
                "CreateService",
                self._create_service,
                run_v2.CreateServiceRequest.deserialize,
                op_out,
            ),
            "UpdateService": unary(
                "UpdateService",
                self._update_service,
                run_v2.UpdateServiceRequest.deserialize,
                op_out,
            ),
            "GetIamPolicy": unary(
                "GetIamPolicy",
                self._get_policy,
                iam_policy_pb2.GetIamPolicyRequest.FromString,
                policy_pb2.Policy.SerializeToString,
            ),
            "SetIamPolicy": unary(
                "SetIamPolicy",
                self._set_policy,
                iam_policy_pb2.SetIamPolicyRequest.FromString,
                policy_pb2.Policy.SerializeToString,
            ),
        }
        operations = {
            "GetOperation": unary(
                "GetOperation",
                self._get_operation,
                operations_pb2.GetOperationRequest.FromString,
                op_out,
            ),
        }
        revisions = {
            "ListRevisions": unary(
                "ListRevisions",
                self._list_revisions,
                run_v2.ListRevisionsRequest.deserialize,
                run_v2.ListRevisionsResponse.serialize,
            ),
            "GetRevision": unary(
                "GetRevision",
                self._get_revision,
                run_v2.GetRevisionRequest.deserialize,
                run_v2.Revision.serialize,
            ),
        }
        return [
            grpc.method_handlers_generic_handler("google.cloud.run.v2.Services", services),
            grpc.method_handlers_generic_handler("google.cloud.run.v2.Revisions", revisions),
            grpc.method_handlers_generic_handler("google.longrunning.Operations", operations),
        ]

    # --- Services --------------------------------------------------------------------------

    def _require(self, name: str) -> run_v2.Service:
        service = self.services.get(name)
        if service is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
        return service

    def _get_service(self, request: run_v2.GetServiceRequest) -> run_v2.Service:
        return self._require(request.name)

    def _list_services(self, request: run_v2.ListServicesRequest) -> run_v2.ListServicesResponse:
        prefix = request.parent + "/services/"
        return run_v2.ListServicesResponse(
            services=[s for name, s in self.services.items() if name.startswith(prefix)]
        )

    def _create_service(self, request: run_v2.CreateServiceRequest) -> operations_pb2.Operation:
        name = f"{request.parent}/services/{request.service_id}"
        if name in self.services:
            raise _Abort(grpc.StatusCode.ALREADY_EXISTS, f"Resource '{name}' already exists")
        if request.service.name:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "service.name must be empty on create")
        service = run_v2.Service(request.service)
        service.name = name
        service.create_time = _EPOCH
        self.revisions[name] = []
        self.policies[name] = policy_pb2.Policy(version=1, etag=b"etag-0")
        return self._store(service, template_changed=True)

    def _update_service(self, request: run_v2.UpdateServiceRequest) -> operations_pb2.Operation:
        incoming = run_v2.Service(request.service)
        if self.interleave is not None:  # another writer lands between a read and this write
            self.interleave, interleave = None, self.interleave
            interleave()
        previous = self.services.get(incoming.name)
        if previous is not None and incoming.etag and incoming.etag != previous.etag:
            raise _Abort(grpc.StatusCode.ABORTED, "etag mismatch: the service has changed")
        if previous is not None and request.update_mask.paths:
            incoming = _masked(previous, incoming, request.update_mask.paths)
        if previous is None:
            if not request.allow_missing:
                raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{incoming.name}' was not found")
            self.revisions[incoming.name] = []
            self.policies[incoming.name] = policy_pb2.Policy(version=1, etag=b"etag-0")
        else:  # output-only fields: whatever the client sent, the server keeps its own
            incoming.create_time = previous.create_time
            incoming.latest_created_revision = previous.latest_created_revision
            incoming.latest_ready_revision = previous.latest_ready_revision
        changed = previous is None or _template_key(incoming) != _template_key(previous)
        return self._store(incoming, template_changed=changed)

    def _store(
        self, service: run_v2.Service, *, template_changed: bool
    ) -> operations_pb2.Operation:
        """Settle the service as Cloud Run would after a rollout, and answer with a done LRO."""
        name = service.name
        short = name.rsplit("/", 1)[-1]
        revisions = self.revisions[name]
        if template_changed:
            revision = self._new_revision(service, len(revisions) + 1)
            revisions.append(revision)
            service.latest_created_revision = revision.name
            if self.new_revisions_ready:
                service.latest_ready_revision = revision.name
        known = {r.name.rsplit("/", 1)[-1]: r for r in revisions}
        statuses = []
        for target in service.traffic:
            if target.type_ == _BY_REVISION and target.revision not in known:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Revision named '{target.revision}' with given name not found",
                )
            fields = {"type_": target.type_, "revision": target.revision, "tag": target.tag}
            if target.tag:
                fields["uri"] = self.tag_urls.get(target.tag, f"https://{target.tag}---{short}.run")
            statuses.append(run_v2.TrafficTargetStatus(percent=target.percent, **fields))
        service.traffic_statuses = statuses
        latest_ok = service.latest_created_revision == service.latest_ready_revision
        service.terminal_condition = run_v2.Condition(
            type_="Ready",
            state=_SUCCEEDED if latest_ok else _FAILED,
            message=""
            if latest_ok
            else f"Revision '{service.latest_created_revision.rsplit('/', 1)[-1]}' is not ready "
            "and cannot serve traffic. The user-provided container failed the configured "
            "startup probe checks.",
        )
        service.conditions = [
            run_v2.Condition(type_="RoutesReady", state=_SUCCEEDED),
            run_v2.Condition(type_="ConfigurationsReady", state=_SUCCEEDED),
        ]
        service.generation = (self.services[name].generation if name in self.services else 0) + 1
        service.observed_generation = service.generation
        service.reconciling = False
        service.update_time = _EPOCH + timedelta(minutes=len(self.requests))
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        service.uri = f"https://{short}-{digest}-uc.a.run.app"
        service.urls = [service.uri]
        service.etag = f"etag-{service.generation}"
        self.services[name] = service
        packed = any_pb2.Any()
        packed.Pack(run_v2.Service.pb(service))
        final = operations_pb2.Operation(
            name=f"{name.split('/services/')[0]}/operations/{uuid.uuid4()}",
            done=True,
            metadata=packed,
        )
        if latest_ok:
            final.response.CopyFrom(packed)
        else:
            final.error.code = grpc.StatusCode.FAILED_PRECONDITION.value[0]
            final.error.message = service.terminal_condition.message
        if self.pending_polls == 0:
            return final
        self._operations[final.name] = [final, self.pending_polls]
        return operations_pb2.Operation(name=final.name, done=False, metadata=packed)

    def _get_operation(
        self, request: operations_pb2.GetOperationRequest
    ) -> operations_pb2.Operation:
        if request.name not in self._operations:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Operation '{request.name}' was not found")
        final, polls_left = self._operations[request.name]
        if polls_left == 0:
            return final
        if polls_left is not None:
            self._operations[request.name][1] = polls_left - 1
        return operations_pb2.Operation(name=final.name, done=False, metadata=final.metadata)

    def _new_revision(self, service: run_v2.Service, number: int) -> run_v2.Revision:
        short = service.name.rsplit("/", 1)[-1]
        suffix = hashlib.sha256(f"{service.name}{number}".encode()).hexdigest()[:3]
        template = service.template
        return run_v2.Revision(
            name=f"{service.name}/revisions/{short}-{number:05d}-{suffix}",
            service=short,
            create_time=_EPOCH + timedelta(hours=number),
            scaling=template.scaling,
            containers=template.containers,
            service_account=template.service_account,
            max_instance_request_concurrency=template.max_instance_request_concurrency,
            node_selector=template.node_selector,
            gpu_zonal_redundancy_disabled=template.gpu_zonal_redundancy_disabled,
            conditions=[_ready_condition(self.new_revisions_ready)],
        )

    # --- IAM -------------------------------------------------------------------------------

    def _get_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        self._require(request.resource)
        return self.policies[request.resource]

    def _set_policy(self, request: iam_policy_pb2.SetIamPolicyRequest) -> policy_pb2.Policy:
        self._require(request.resource)
        current = self.policies[request.resource]
        if request.policy.etag and request.policy.etag != current.etag:
            raise _Abort(grpc.StatusCode.ABORTED, "There were concurrent policy changes.")
        policy = policy_pb2.Policy()
        policy.CopyFrom(request.policy)
        policy.etag = f"etag-{int(current.etag.decode().split('-')[1]) + 1}".encode()
        self.policies[request.resource] = policy
        return policy

    # --- Revisions -------------------------------------------------------------------------

    def _list_revisions(self, request: run_v2.ListRevisionsRequest) -> run_v2.ListRevisionsResponse:
        self._require(request.parent)
        return run_v2.ListRevisionsResponse(revisions=self.revisions[request.parent])

    def _get_revision(self, request: run_v2.GetRevisionRequest) -> run_v2.Revision:
        service = request.name.split("/revisions/")[0]
        for revision in self.revisions.get(service, []):
            if revision.name == request.name:
                return revision
        raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name}' was not found")
