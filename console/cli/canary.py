"""`python -m console.golden canary GOLDEN_SET --tag SHA [--margin M] [--dry-run] [apply's flags]`.

The quality-gated rollout (console/golden/_canary.py) from a shell: the console's audited
action (`canary rollout`) on a Cloud Run platform for the `--project/--region/--service`
target, over the console's store (LIGHTONOCR_DATA_DIR or LIGHTONOCR_DATABASE_URL: where the
golden sets and their runs are). The candidate is the spec `python -m deploy apply` would
deploy from the same flags; a job runner in this process reads the golden set through the
candidate's tagged URL and claims no other job. Exit 0 promoted, 3 refused (traffic
unchanged), 2 bad input, 1 a cloud error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from console._store import Store, StoreError
from console.golden._canary import CanaryReport, plan
from console.golden._gate import check_gate_input, check_margin, check_set_name
from console.golden._models import DEFAULT_MARGIN
from console.golden._store import GoldenStore
from console.settings import ConsoleSettings
from deploy import (
    CloudError,
    InvalidSpec,
    ServiceSpec,
    ServiceTarget,
    add_spec_arguments,
    candidate_tag,
    spec_from_args,
    target_arguments,
)
from ocr_core import SettingsError

EXIT_CLOUD_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3  # the candidate was not promoted


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.golden canary",
        description="Deploy a new revision with no traffic and promote it only if the golden "
        "set reads as well on it as on the serving revision.",
        parents=[target_arguments()],
    )
    parser.add_argument("golden_set", metavar="GOLDEN_SET", help="a registered, measured set")
    parser.add_argument(
        "--margin",
        type=float,
        default=DEFAULT_MARGIN,
        help=f"allowed CER rise per document, 0 <= M < 1 (default {DEFAULT_MARGIN})",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
    add_spec_arguments(parser)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        target = ServiceTarget.from_env(
            env, project=args.project, region=args.region, service=args.service
        )
        # The service's floor and ceiling are kept unless the command line names new ones.
        scaling_given = args.min_instances is not None or args.max_instances is not None
        return run_canary_command(
            target,
            spec_from_args(args, env),
            golden_set=args.golden_set,
            margin=args.margin,
            dry_run=args.dry_run,
            env=env,
            out=out,
            keep_scaling=not scaling_given,
        )
    except (InvalidSpec, StoreError, SettingsError) as error:
        print(f"error: {error}", file=err)
        return EXIT_BAD_INPUT
    except CloudError as error:
        print(f"error: {error}", file=err)
        return EXIT_CLOUD_ERROR


def run_canary_command(
    target: ServiceTarget,
    spec: ServiceSpec,
    *,
    golden_set: str,
    margin: float,
    dry_run: bool,
    env: Mapping[str, str],
    out: TextIO,
    keep_scaling: bool = True,
) -> int:
    """The gate's input is checked first (the image, the set, its measured runs, the margin),
    the dry run included: nothing is contacted for a canary that could not be judged."""
    check_set_name(golden_set)
    check_margin(margin)
    candidate_tag(spec)
    spec.image_for(target)
    store = Store.from_env(env)
    try:
        check_gate_input(GoldenStore(store), golden_set, margin)
        if dry_run:
            print(plan(spec, target, golden_set, margin), file=out)
            return 0
        report = _rollout(target, spec, store, golden_set, margin, env, keep_scaling)
    finally:
        store.close()
    print(report.text(), file=out)
    return 0 if report.promoted else EXIT_REFUSED


def _rollout(
    target: ServiceTarget,
    spec: ServiceSpec,
    store: Store,
    golden_set: str,
    margin: float,
    env: Mapping[str, str],
    keep_scaling: bool,
) -> CanaryReport:
    """The audited action, with a runner in this process that claims only the canary's own
    golden run: pointed at the team's store, it takes nobody's jobs."""
    from console.cli._common import cli_identity
    from console.platforms.cloudrun import CloudRunPlatform
    from console.runtime import Runtime
    from console.service import Operations
    from console.service._canary_action import canary_rollout
    from deploy import CloudRunDeployer, logging_client
    from ocr_core import ClientSettings

    deployer = CloudRunDeployer(target, env=env)
    platform = CloudRunPlatform(
        target,
        deployer.status().url,
        deployer=deployer,
        logging_client=logging_client(env),
        client_settings=ClientSettings.from_env(env),
    )
    actor = ConsoleSettings.from_env(env).actor
    runtime = Runtime(Operations(platform, store, actor=actor))
    runner = runtime.runner(only=set()).start()
    try:
        return canary_rollout(
            runtime.operations,
            cli_identity(dict(env)),
            tag=spec.tag or spec.image or "",
            golden_set=golden_set,
            margin=margin,
            runner=runner,
            spec=spec,
            keep_scaling=keep_scaling,
        )
    finally:
        runner.stop()
