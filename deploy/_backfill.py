"""Create or update the backfill Job, run an execution of it, watch it, cancel it.

Through `google-cloud-run`'s JobsClient and ExecutionsClient, taken as constructor arguments
(tests hand in clients on an in-process fake gRPC server). An update carries the Job's etag,
as the service's updates do, so a change made in between is refused rather than overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions
from google.cloud import run_v2

from deploy._backfill_job import BACKFILL_JOB, BackfillJobSpec, job_name
from deploy._errors import CloudError
from deploy._spec import ServiceTarget

OPERATION_TIMEOUT_S = 300


@dataclass(frozen=True)
class ExecutionState:
    """An execution as an operator reads it."""

    name: str
    tasks: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    retried: int
    done: bool
    log_uri: str

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @classmethod
    def of(cls, execution: run_v2.Execution) -> ExecutionState:
        return cls(
            name=execution.name,
            tasks=execution.task_count,
            running=execution.running_count,
            succeeded=execution.succeeded_count,
            failed=execution.failed_count,
            cancelled=execution.cancelled_count,
            retried=execution.retried_count,
            done=bool(execution.completion_time),
            log_uri=execution.log_uri,
        )


class BackfillDeployer:
    def __init__(
        self,
        target: ServiceTarget,
        *,
        jobs_client: Any = None,
        executions_client: Any = None,
    ) -> None:
        self.target = target
        self.jobs = jobs_client or run_v2.JobsClient()
        self.executions = executions_client or run_v2.ExecutionsClient()

    def ensure_job(self, spec: BackfillJobSpec) -> run_v2.Job:
        """Create the Job, or update it to `spec` (under its etag)."""
        wanted = spec.job(self.target)
        name = job_name(self.target)
        try:
            current = self.jobs.get_job(name=name)
        except exceptions.NotFound:
            operation = self._call(
                self.jobs.create_job, parent=self.target.parent, job=wanted, job_id=BACKFILL_JOB
            )
            return self._result(operation)
        wanted.name, wanted.etag = name, current.etag
        return self._result(self._call(self.jobs.update_job, job=wanted))

    def run(self, spec: BackfillJobSpec, source: str, dest: str, formats: str) -> ExecutionState:
        """One execution of the Job for SOURCE -> DEST; returns it as started."""
        request = run_v2.RunJobRequest(
            name=job_name(self.target), overrides=spec.overrides(source, dest, formats)
        )
        operation = self._call(self.jobs.run_job, request=request)
        # The operation ends when the execution does; its metadata is the execution now.
        execution = operation.metadata
        if execution is None or not execution.name:
            raise CloudError("Cloud Run started no execution", action="run the backfill job")
        return ExecutionState.of(execution)

    def state(self, execution: str) -> ExecutionState:
        return ExecutionState.of(
            self._call(self.executions.get_execution, name=self._name(execution))
        )

    def cancel(self, execution: str) -> ExecutionState:
        operation = self._call(self.executions.cancel_execution, name=self._name(execution))
        return ExecutionState.of(self._result(operation))

    def _name(self, execution: str) -> str:
        if "/" in execution:
            return execution
        return f"{job_name(self.target)}/executions/{execution}"

    def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except exceptions.GoogleAPICallError as error:
            raise CloudError(
                f"Cloud Run refused {method.__name__}: {error.message}",
                action=method.__name__.replace("_", " "),
            ) from error

    def _result(self, operation: Any) -> Any:
        try:
            return operation.result(timeout=OPERATION_TIMEOUT_S)
        except exceptions.GoogleAPICallError as error:
            raise CloudError(
                f"Cloud Run's operation failed: {error.message}", action="wait for Cloud Run"
            ) from error
