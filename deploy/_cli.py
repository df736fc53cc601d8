"""`python -m deploy`: apply the spec and operate the service from a terminal.

Output is for people: short aligned lines, and every failure is one sentence saying what
failed and what to do (exit 1 for cloud errors, 2 for bad input), never a traceback.
`apply --dry-run` prints the exact Service request as JSON (only the fields that are set)
on stdout, with a summary of what matters (image, model revision, probe window) on stderr,
and contacts nothing, so it works with no credentials at all.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from deploy._args import add_spec_arguments, spec_from_args, target_arguments
from deploy._backfill_cli import add_backfill_commands, run_backfill
from deploy._console_cli import add_console_commands, run_console
from deploy._errors import CloudError, InvalidSpec
from deploy._info import RevisionInfo, ServiceInfo
from deploy._request import request_json
from deploy._service import CloudRunDeployer
from deploy._spec import ServiceSpec, ServiceTarget
from deploy.settings import SettingsError
from gpu_image import serve_config

EXIT_CLOUD_ERROR = 1
EXIT_BAD_INPUT = 2
MOVED_CANARY = (
    "the canary gate is the console's now, beside the golden sets it is judged by: "
    "python -m console.golden canary SET --tag SHA [--margin M] [--dry-run] (same flags as "
    "apply)."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy",
        description="Deploy and operate the LightOnOCR GPU service on Cloud Run.",
    )
    where = target_arguments()
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    apply = commands.add_parser(
        "apply", parents=[where], help="create or update the service from the spec"
    )
    apply.add_argument(
        "--dry-run", action="store_true", help="print the Service request as JSON, send nothing"
    )
    add_spec_arguments(apply)
    # The canary moved to the console, with the golden sets it is judged by: said, not an
    # argparse "unrecognized arguments" for a script written before.
    apply.add_argument("--canary", help=argparse.SUPPRESS)
    apply.add_argument("--margin", help=argparse.SUPPRESS)

    commands.add_parser("status", parents=[where], help="show the service's state")
    scale = commands.add_parser(
        "scale", parents=[where], help="set the instance floor/ceiling (no new revision)"
    )
    floor = scale.add_mutually_exclusive_group()
    floor.add_argument("--min", type=int, dest="min_instances", help="instance floor")
    floor.add_argument("--to-zero", action="store_true", help="floor 0: idle instances retire")
    scale.add_argument("--max", type=int, dest="max_instances", help="instance ceiling")
    commands.add_parser("revisions", parents=[where], help="list revisions, newest first")
    rollback = commands.add_parser(
        "rollback", parents=[where], help="send all traffic to an earlier revision"
    )
    rollback.add_argument("--revision", help="revision name (default: the previous ready one)")
    grant = commands.add_parser(
        "grant-invoker", parents=[where], help="grant roles/run.invoker on the service"
    )
    grant.add_argument(
        "--member", required=True, help="e.g. serviceAccount:backend@P.iam.gserviceaccount.com"
    )
    add_console_commands(commands)
    add_backfill_commands(commands)
    return parser


def _print_service(info: ServiceInfo, target: ServiceTarget, out: TextIO) -> None:
    state = "reconciling" if info.reconciling else "ready" if info.ready else "NOT READY"
    traffic = ", ".join(f"{name} {percent}%" for name, percent in info.traffic) or "-"
    rows = [
        ("Service", f"{info.name} ({target.project}, {target.region})"),
        ("URL", info.url or "-"),
        ("State", state),
        ("Ready revision", info.latest_ready_revision or "-"),
        ("Latest created", info.latest_created_revision or "-"),
        ("Traffic", traffic),
        ("Instances", f"min {info.min_instances} / max {info.max_instances}"),
        ("Resources", f"{info.cpu} vCPU, {info.memory}, {info.gpu_count} x {info.gpu_type or '-'}"),
        ("Image", info.image or "-"),
        ("Updated", info.update_time.isoformat() if info.update_time else "-"),
    ]
    for label, value in rows:
        print(f"{label + ':':<16}{value}", file=out)
    for kind, cond_state, message in info.conditions:
        if cond_state != "SUCCEEDED":
            print(f"{'Condition:':<16}{kind} {cond_state} {message}".rstrip(), file=out)


def _print_revisions(revisions: Sequence[RevisionInfo], out: TextIO) -> None:
    print(f"{'REVISION':<32}{'CREATED':<27}{'READY':<7}{'TRAFFIC':<9}IMAGE", file=out)
    for rev in revisions:
        created = rev.create_time.isoformat(timespec="seconds") if rev.create_time else "-"
        ready = "yes" if rev.ready else "no"
        print(
            f"{rev.name:<32}{created:<27}{ready:<7}{rev.traffic_percent:>3}%     {rev.image}",
            file=out,
        )


def _print_plan(spec: ServiceSpec, target: ServiceTarget, err: TextIO) -> None:
    """What a reviewer checks before a deploy, in words (the JSON has the details)."""
    probe = f"HTTP GET {spec.probe_http_path}" if spec.probe_http_path else "TCP"
    rows = [
        ("Image", spec.image_for(target)),
        ("Model", f"{serve_config.MODEL_ID} @ {serve_config.MODEL_REVISION} (baked in)"),
        ("Context", f"{serve_config.MAX_MODEL_LEN} tokens, batch {serve_config.MAX_NUM_SEQS}"),
        (
            "Startup probe",
            f"{probe}, {spec.probe_initial_delay_s} s + {spec.probe_failure_threshold} x "
            f"{spec.probe_period_s} s = {spec.startup_window_s} s window",
        ),
        ("Concurrency", f"{spec.concurrency} requests per instance"),
    ]
    for label, value in rows:
        print(f"# {label + ':':<15}{value}", file=err)


def _run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    if args.command == "console":
        run_console(args, env, out, err)
        return 0
    if args.command == "backfill":
        return run_backfill(args, env, out)
    target = ServiceTarget.from_env(
        env, project=args.project, region=args.region, service=args.service
    )
    if args.command == "apply" and (args.canary is not None or args.margin is not None):
        raise InvalidSpec(MOVED_CANARY)
    if args.command == "apply" and args.dry_run:
        spec = spec_from_args(args, env)
        service = CloudRunDeployer(target, env=env).build_service(spec)
        _print_plan(spec, target, err)
        print(request_json(service), file=out)
        return 0
    deployer = CloudRunDeployer(target, env=env)
    if args.command == "apply":
        spec = spec_from_args(args, env)
        info = deployer.apply(spec)
        print(f"Deployed {info.name}: {info.url}", file=out)
        print(f"Ready revision: {info.latest_ready_revision}", file=out)
        if not info.ready:
            _print_service(info, target, out)
    elif args.command == "status":
        _print_service(deployer.status(), target, out)
    elif args.command == "scale":
        floor = 0 if args.to_zero else args.min_instances
        if floor is None and args.max_instances is None:
            raise InvalidSpec("scale needs --min N, --max M or --to-zero.")
        info = deployer.scale(min_instances=floor, max_instances=args.max_instances)
        print(
            f"Scaled {info.name}: min {info.min_instances} / max {info.max_instances} instances",
            file=out,
        )
    elif args.command == "revisions":
        _print_revisions(deployer.revisions(), out)
    elif args.command == "rollback":
        info = deployer.rollback(args.revision)
        serving = ", ".join(f"{name} {percent}%" for name, percent in info.traffic)
        print(f"Rolled back {info.name}: traffic now {serving}", file=out)
    elif args.command == "grant-invoker":
        deployer.grant_invoker(args.member)
        print(f"Granted roles/run.invoker on {target.service} to {args.member}", file=out)
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; returns the process exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        return _run(args, os.environ if env is None else env, out, err)
    except (InvalidSpec, SettingsError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    except CloudError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_CLOUD_ERROR
