"""`python -m deploy apply --tag SHA --canary GOLDEN_SET [--margin M] [--dry-run]`.

The console's pieces are imported here, inside the command: `python -m deploy` without
`--canary` needs none of them. The run is the console's audited action (`canary rollout`) on
a Cloud Run platform for the `--project/--region/--service` target, over the console's store
(LIGHTONOCR_DATA_DIR or LIGHTONOCR_DATABASE_URL: where the golden sets and their runs are);
a job runner in this process reads the golden set through the candidate's tagged URL, and
claims no other job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from deploy._canary import CanaryReport, plan
from deploy._canary_gate import candidate_tag, check_gate_input, check_margin, check_set_name
from deploy._service import CloudRunDeployer
from deploy._spec import ServiceSpec, ServiceTarget

if TYPE_CHECKING:
    from console._store import Store

EXIT_REFUSED = 3  # the candidate was not promoted (1 and 2 are cloud errors and bad input)


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
    from console._store import Store
    from console.golden import GoldenStore

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
    golden run (issue 31, item 4): pointed at the team's store, it takes nobody's jobs."""
    from console.cli._common import cli_identity
    from console.jobs import JobRunner
    from console.platforms.cloudrun import CloudRunPlatform
    from console.service import Operations
    from console.service._canary_action import canary_rollout
    from console.settings import ConsoleSettings
    from deploy._canary_logs import logging_client
    from ocr_core import ClientSettings, OCRClient

    deployer = CloudRunDeployer(target, env=env)
    settings = ClientSettings.from_env(env).with_overrides(use_text_layer=False)
    platform = CloudRunPlatform(
        target,
        deployer.status().url,
        deployer=deployer,
        logging_client=logging_client(env),
        client_settings=settings,
    )
    operations = Operations(platform, store, actor=ConsoleSettings.from_env(env).actor)
    client_settings = platform.client_settings()
    runner = JobRunner(store, lambda: OCRClient(settings=client_settings), only=set()).start()
    try:
        return canary_rollout(
            operations,
            cli_identity(),
            tag=spec.tag or spec.image or "",
            golden_set=golden_set,
            margin=margin,
            runner=runner,
            spec=spec,
            keep_scaling=keep_scaling,
        )
    finally:
        runner.stop()
