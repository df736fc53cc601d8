"""A backfill as a Cloud Run Job: the spec, the Job it becomes, and one execution per run.

The tasks are CPU tasks that call the GPU service (`python -m console.backfill task`), not
GPU tasks running vLLM each: the service's L4s scale on their own up to its ceiling and
back to zero, a task starts in seconds instead of paying a model load, and GPU tasks may run
at most an hour and are not live-migrated ("For tasks using GPUs, the maximum available
timeout is 1 hour", and "Tasks that use GPUs cannot be live migrated and are terminated
instead", Google's "Set task timeout for jobs" page). The cost of each way is in
deploy/README.md.

One Job (`lightonocr-backfill`) serves every backfill: each run is an execution whose
overrides name the backfill (its manifest id, frozen beforehand) and its task count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.cloud import run_v2
from google.protobuf import duration_pb2

from deploy._console_spec import CONSOLE_IMAGE_NAME
from deploy._errors import InvalidSpec
from deploy._spec import DEFAULT_REPOSITORY, ServiceTarget, _mutable_image_problems

BACKFILL_JOB = "lightonocr-backfill"
BACKFILL_SA_ID = "lightonocr-backfill"
CONTAINER = "backfill"
COMMAND = ("python", "-m", "console.backfill")
# Cloud Run Jobs: at most 10,000 tasks per execution; CPU tasks may run up to 168 hours.
MAX_TASKS = 10_000
MAX_TASK_TIMEOUT_S = 168 * 3600


@dataclass(frozen=True, slots=True)
class BackfillJobSpec:
    """What every backfill execution runs; the backfill itself comes with each run."""

    service_url: str
    image: str | None = None
    tag: str | None = None
    repository: str = DEFAULT_REPOSITORY
    tasks: int = 10
    parallelism: int = 0  # 0: all tasks at once
    max_retries: int = 3
    task_timeout_s: int = 6 * 3600
    cpu: str = "2"
    memory: str = "4Gi"
    service_account: str | None = None
    labels: dict[str, str] = field(
        default_factory=lambda: {"app": "lightonocr-backfill", "managed-by": "lightonocr-deploy"}
    )

    def __post_init__(self) -> None:
        problems = _mutable_image_problems(self.image, self.tag)
        if not self.service_url.startswith("https://"):
            problems.append(f"the GPU service's URL must be https://, not {self.service_url!r}")
        if not 1 <= self.tasks <= MAX_TASKS:
            problems.append(f"--tasks must be 1 to {MAX_TASKS}, not {self.tasks}")
        if not 0 <= self.parallelism <= self.tasks:
            problems.append("--parallelism must be 0 (all) up to the task count")
        if not 0 <= self.max_retries <= 10:
            problems.append("--max-retries must be 0 to 10 (Cloud Run's limit)")
        if not 60 <= self.task_timeout_s <= MAX_TASK_TIMEOUT_S:
            problems.append(f"--task-timeout must be 60 s to {MAX_TASK_TIMEOUT_S} s")
        if problems:
            raise InvalidSpec("Invalid backfill job: " + "; ".join(problems) + ".")

    def image_for(self, target: ServiceTarget) -> str:
        if self.image:
            return self.image
        if not self.tag:
            raise InvalidSpec("No console image: pass --tag COMMIT or --image REF@sha256:DIGEST.")
        return (
            f"{target.region}-docker.pkg.dev/{target.project}/{self.repository}/"
            f"{CONSOLE_IMAGE_NAME}:{self.tag}"
        )

    def service_account_for(self, target: ServiceTarget) -> str:
        return self.service_account or f"{BACKFILL_SA_ID}@{target.project}.iam.gserviceaccount.com"

    def job(self, target: ServiceTarget) -> run_v2.Job:
        container = run_v2.Container(
            name=CONTAINER,
            image=self.image_for(target),
            command=list(COMMAND),
            env=[run_v2.EnvVar(name="LIGHTONOCR_SERVICE_URL", value=self.service_url)],
            resources=run_v2.ResourceRequirements(limits={"cpu": self.cpu, "memory": self.memory}),
        )
        return run_v2.Job(
            labels=self.labels,
            template=run_v2.ExecutionTemplate(
                task_count=self.tasks,
                parallelism=self.parallelism,
                template=run_v2.TaskTemplate(
                    containers=[container],
                    max_retries=self.max_retries,
                    timeout=duration_pb2.Duration(seconds=self.task_timeout_s),
                    service_account=self.service_account_for(target),
                ),
            ),
        )

    def overrides(self, source: str, dest: str, formats: str) -> run_v2.RunJobRequest.Overrides:
        """This run's backfill: SOURCE to DEST. The execution names it: its task 0 freezes
        SOURCE's listing as `DEST/_backfill/<execution>/manifest.jsonl`, once."""
        for url in (source, dest):
            if not url.startswith("gs://") or len(url) <= len("gs://"):
                raise InvalidSpec(
                    f"On Cloud Run a backfill reads and writes gs:// URLs, not {url!r}."
                )
        args = ["task", dest, "--source", source, "--formats", formats]
        return run_v2.RunJobRequest.Overrides(
            container_overrides=[
                run_v2.RunJobRequest.Overrides.ContainerOverride(name=CONTAINER, args=args)
            ],
            task_count=self.tasks,
        )


def job_name(target: ServiceTarget) -> str:
    return f"{target.parent}/jobs/{BACKFILL_JOB}"
