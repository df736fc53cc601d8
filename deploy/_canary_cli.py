"""`python -m deploy apply --tag SHA --canary GOLDEN_SET [--margin M] [--dry-run]`.

The console's pieces are imported here, inside the command: `python -m deploy` without
`--canary` needs none of them. The run is the console's audited action (`canary rollout`) on
a Cloud Run platform for the `--project/--region/--service` target, over the console's store
(LIGHTONOCR_DATA_DIR or LIGHTONOCR_DATABASE_URL: where the golden sets and their runs are);
a job runner in this process reads the golden set through the candidate's tagged URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from deploy._canary import plan
from deploy._service import CloudRunDeployer
from deploy._spec import ServiceSpec, ServiceTarget

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
) -> int:
    if dry_run:
        print(plan(spec, target.service, golden_set, margin), file=out)
        return 0
    from console._store import Store
    from console.jobs import JobRunner
    from console.jobs._cli import cli_identity
    from console.platforms.cloudrun import CloudRunPlatform
    from console.service import Operations
    from console.service._canary_action import canary_rollout
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
    store = Store.from_env(env)
    operations = Operations(platform, store, actor=env.get("LIGHTONOCR_ACTOR") or None)
    client_settings = platform.client_settings()
    runner = JobRunner(store, lambda: OCRClient(settings=client_settings)).start()
    try:
        report = canary_rollout(
            operations,
            cli_identity(),
            tag=spec.tag or "",
            golden_set=golden_set,
            margin=margin,
            runner=runner,
        )
    finally:
        runner.stop()
        store.close()
    print(report.text(), file=out)
    return 0 if report.promoted else EXIT_REFUSED
