"""In-process fake of Cloud Run Admin API v2 Jobs and Executions over gRPC.

The real `google-cloud-run` JobsClient and ExecutionsClient talk to it on loopback. State as
Cloud Run keeps it where our code depends on it: CreateJob and UpdateJob come back done with
the Job (an update under a stale etag is ABORTED); RunJob starts an execution and returns an
operation that is NOT done, its metadata the Execution (Cloud Run's ends with the execution);
GetExecution shows the counts a test sets; CancelExecution marks it cancelled and done.
Every request is recorded.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import grpc
from google.cloud import run_v2
from google.cloud.run_v2.services.executions.transports import ExecutionsGrpcTransport
from google.cloud.run_v2.services.jobs.transports import JobsGrpcTransport
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, timestamp_pb2

from tests.fakes._grpc import LoopbackGrpc


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code, self.message = code, message


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(type(message).pb(message))
    return packed


class FakeRunJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, run_v2.Job] = {}
        self.executions: dict[str, run_v2.Execution] = {}
        self.requests: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._grpc = LoopbackGrpc(max_workers=4)

    def start(self) -> str:
        return self._grpc.start(self._handlers())

    def stop(self) -> None:
        self._grpc.stop()

    def jobs_client(self) -> run_v2.JobsClient:
        return run_v2.JobsClient(transport=JobsGrpcTransport(channel=self._grpc.channel()))

    def executions_client(self) -> run_v2.ExecutionsClient:
        channel = self._grpc.channel()
        return run_v2.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))

    def requests_for(self, method: str) -> list[Any]:
        return [request for name, request in self.requests if name == method]

    def progress(self, execution: str, *, running: int, succeeded: int, failed: int) -> None:
        """What Cloud Run would report as the tasks go."""
        with self._lock:
            found = self.executions[execution]
            found.running_count, found.succeeded_count = running, succeeded
            found.failed_count = failed
            if succeeded + failed == found.task_count:
                found.completion_time = timestamp_pb2.Timestamp(seconds=1_800_000_000)

    # --- RPCs ------------------------------------------------------------------------------

    def _get_job(self, request: run_v2.GetJobRequest) -> run_v2.Job:
        if request.name not in self.jobs:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name}' was not found")
        return self.jobs[request.name]

    def _store_job(self, name: str, sent: run_v2.Job) -> operations_pb2.Operation:
        job = run_v2.Job.deserialize(run_v2.Job.serialize(sent))  # the request stays as sent
        generation = self.jobs[name].generation + 1 if name in self.jobs else 1
        job.name, job.generation, job.etag = name, generation, f"etag-{generation}"
        self.jobs[name] = job
        return operations_pb2.Operation(
            name=f"{name}/operations/{uuid.uuid4()}", done=True, response=_packed(job)
        )

    def _create_job(self, request: run_v2.CreateJobRequest) -> operations_pb2.Operation:
        name = f"{request.parent}/jobs/{request.job_id}"
        if name in self.jobs:
            raise _Abort(grpc.StatusCode.ALREADY_EXISTS, f"Resource '{name}' already exists")
        return self._store_job(name, request.job)

    def _update_job(self, request: run_v2.UpdateJobRequest) -> operations_pb2.Operation:
        name = request.job.name
        if name not in self.jobs:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
        if request.job.etag and request.job.etag != self.jobs[name].etag:
            raise _Abort(grpc.StatusCode.ABORTED, "the job changed since it was read (etag)")
        return self._store_job(name, request.job)

    def _run_job(self, request: run_v2.RunJobRequest) -> operations_pb2.Operation:
        job = self._get_job(run_v2.GetJobRequest(name=request.name))
        short = f"{request.name.rsplit('/', 1)[-1]}-{uuid.uuid4().hex[:5]}"
        name = f"{request.name}/executions/{short}"
        overrides = request.overrides
        execution = run_v2.Execution(
            name=name,
            job=request.name.rsplit("/", 1)[-1],
            task_count=overrides.task_count or job.template.task_count,
            parallelism=job.template.parallelism,
            template=job.template.template,
            log_uri=f"https://console.cloud.google.com/logs?execution={short}",
        )
        if overrides.container_overrides:
            execution.template.containers[0].args = list(overrides.container_overrides[0].args)
        self.executions[name] = execution
        return operations_pb2.Operation(
            name=f"{name}/operations/{uuid.uuid4()}", done=False, metadata=_packed(execution)
        )

    def _get_execution(self, request: run_v2.GetExecutionRequest) -> run_v2.Execution:
        if request.name not in self.executions:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name}' was not found")
        return self.executions[request.name]

    def _cancel_execution(self, request: run_v2.CancelExecutionRequest) -> operations_pb2.Operation:
        execution = self._get_execution(run_v2.GetExecutionRequest(name=request.name))
        left = execution.task_count - execution.succeeded_count - execution.failed_count
        execution.cancelled_count, execution.running_count = left, 0
        execution.completion_time = timestamp_pb2.Timestamp(seconds=1_800_000_000)
        return operations_pb2.Operation(
            name=f"{request.name}/operations/{uuid.uuid4()}", done=True, response=_packed(execution)
        )

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        def unary(method: str, impl: Callable[[Any], Any], request: Any, response: Any) -> Any:
            def handler(message: Any, context: grpc.ServicerContext) -> Any:
                with self._lock:
                    self.requests.append((method, message))
                    try:
                        return impl(message)
                    except _Abort as abort:
                        context.abort(abort.code, abort.message)

            return grpc.unary_unary_rpc_method_handler(
                handler, request_deserializer=request, response_serializer=response
            )

        operation = operations_pb2.Operation.SerializeToString
        jobs = {
            "GetJob": unary(
                "GetJob", self._get_job, run_v2.GetJobRequest.deserialize, run_v2.Job.serialize
            ),
            "CreateJob": unary(
                "CreateJob", self._create_job, run_v2.CreateJobRequest.deserialize, operation
            ),
            "UpdateJob": unary(
                "UpdateJob", self._update_job, run_v2.UpdateJobRequest.deserialize, operation
            ),
            "RunJob": unary("RunJob", self._run_job, run_v2.RunJobRequest.deserialize, operation),
        }
        executions = {
            "GetExecution": unary(
                "GetExecution",
                self._get_execution,
                run_v2.GetExecutionRequest.deserialize,
                run_v2.Execution.serialize,
            ),
            "CancelExecution": unary(
                "CancelExecution",
                self._cancel_execution,
                run_v2.CancelExecutionRequest.deserialize,
                operation,
            ),
        }
        return [
            grpc.method_handlers_generic_handler("google.cloud.run.v2.Jobs", jobs),
            grpc.method_handlers_generic_handler("google.cloud.run.v2.Executions", executions),
        ]
