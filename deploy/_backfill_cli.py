"""`python -m deploy backfill SOURCE --out DEST` and its `status` / `cancel`: a backfill on
Cloud Run Jobs. `--dry-run` prints the Job and this run's overrides as JSON and contacts
nothing; without it the Job is created or updated and one execution runs. Its task 0
freezes SOURCE's listing under DEST (see console/backfill), so a retried task or a re-run
does only what is left; `python -m console.backfill status DEST` reads its progress.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any, TextIO

from google.cloud import run_v2
from google.protobuf import json_format

from deploy._backfill import BackfillDeployer, ExecutionState
from deploy._backfill_job import BackfillJobSpec, job_name
from deploy._spec import ServiceTarget


def add_backfill_commands(commands: Any) -> None:
    backfill = commands.add_parser(
        "backfill", help="OCR a gs:// prefix on Cloud Run Jobs (run, status, cancel)"
    )
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--project", help="Google Cloud project (env GOOGLE_CLOUD_PROJECT)")
    where.add_argument("--region", help="Cloud Run region (env LIGHTONOCR_REGION, us-central1)")
    actions = backfill.add_subparsers(dest="backfill_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", parents=[where], help="create/update the Job, run it")
    run.add_argument("source", help="gs://bucket/prefix/ of the documents")
    run.add_argument("--out", required=True, help="gs://bucket/prefix/ for the outputs")
    run.add_argument("--service-url", required=True, help="the GPU service's https URL")
    run.add_argument("--image", help="console image reference, by digest")
    run.add_argument("--tag", help="console image commit tag in Artifact Registry")
    run.add_argument("--tasks", type=int, default=10)
    run.add_argument("--parallelism", type=int, default=0)
    run.add_argument("--max-retries", type=int, default=3)
    run.add_argument("--task-timeout", type=int, default=6 * 3600, help="seconds")
    run.add_argument("--formats", default="md,json")
    run.add_argument("--service-account", help="the tasks' account (default lightonocr-backfill@)")
    run.add_argument("--dry-run", action="store_true", help="print the Job, send nothing")
    for name, words in (("status", "an execution's tasks"), ("cancel", "stop an execution")):
        action = actions.add_parser(name, parents=[where], help=words)
        action.add_argument("execution", help="the execution's name (or its short name)")


def _state(state: ExecutionState) -> str:
    return (
        f"{state.short_name}: {state.tasks} tasks, {state.running} running, "
        f"{state.succeeded} succeeded, {state.failed} failed, {state.cancelled} cancelled, "
        f"{state.retried} retried{' (done)' if state.done else ''}"
    )


def run_backfill(
    args: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    *,
    deployer: BackfillDeployer | None = None,
) -> int:
    target = ServiceTarget.from_env(env, project=args.project, region=args.region)
    if args.backfill_command == "run":
        spec = BackfillJobSpec(
            service_url=args.service_url,
            image=args.image,
            tag=args.tag,
            tasks=args.tasks,
            parallelism=args.parallelism,
            max_retries=args.max_retries,
            task_timeout_s=args.task_timeout,
            service_account=args.service_account,
        )
        overrides = spec.overrides(args.source, args.out, args.formats)
        if args.dry_run:
            plan = {
                "job": job_name(target),
                "gpu": "none: CPU tasks call the GPU service, whose L4s scale to its ceiling",
                "spec": json_format.MessageToDict(run_v2.Job.pb(spec.job(target))),
                "run": json_format.MessageToDict(run_v2.RunJobRequest.Overrides.pb(overrides)),
            }
            print(json.dumps(plan, indent=2), file=out)
            return 0
    deployer = deployer or BackfillDeployer(target)
    if args.backfill_command == "run":
        deployer.ensure_job(spec)
        state = deployer.run(spec, args.source, args.out, args.formats)
        print(f"started {_state(state)}", file=out)
        follow = f"python -m console.backfill status {args.out} --id {state.short_name}"
        print(f"progress: {follow}", file=out)
    elif args.backfill_command == "status":
        print(_state(deployer.state(args.execution)), file=out)
    else:
        print(f"cancelled {_state(deployer.cancel(args.execution))}", file=out)
    return 0
