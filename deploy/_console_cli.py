"""`python -m deploy console apply|status`: the console as a team service behind IAP.

`apply --dry-run` prints the Service request as JSON (only what is set) and contacts nothing;
without `--service-url` the dry run cannot know the GPU service's URL and says so.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from typing import Any, TextIO

from deploy._console_service import ConsoleDeployer
from deploy._console_spec import ConsoleSpec
from deploy._request import request_json
from deploy._spec import DEFAULT_SERVICE, ServiceTarget
from deploy.settings import CONSOLE_SERVICE, DeploySettings


def add_console_commands(commands: Any) -> None:
    """The `console` command and its `apply` / `status` subcommands."""
    console = commands.add_parser(
        "console", help="deploy the operations console behind IAP (apply, status)"
    )
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--project", help="Google Cloud project (env GOOGLE_CLOUD_PROJECT)")
    where.add_argument("--region", help="Cloud Run region (env LIGHTONOCR_REGION, us-central1)")
    where.add_argument(
        "--service",
        help=f"the console's service (env LIGHTONOCR_CONSOLE_SERVICE, {CONSOLE_SERVICE})",
    )
    where.add_argument(
        "--gpu-service",
        help=f"the GPU service it operates (env LIGHTONOCR_SERVICE, {DEFAULT_SERVICE})",
    )
    actions = console.add_subparsers(dest="console_command", required=True, metavar="ACTION")
    apply = actions.add_parser("apply", parents=[where], help="create or update the console")
    apply.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    apply.add_argument(
        "--project-number",
        help="project NUMBER, for IAP's audience (env LIGHTONOCR_PROJECT_NUMBER)",
    )
    apply.add_argument("--service-url", help="the GPU service's URL (default: read from Cloud Run)")
    apply.add_argument("--image", help="full console image reference (immutable)")
    apply.add_argument("--tag", help="console image commit tag in Artifact Registry")
    apply.add_argument("--repository", help="Artifact Registry repository")
    apply.add_argument("--database-url", help="PostgreSQL URL for a server taking no password")
    apply.add_argument("--database-url-secret", help="Secret Manager secret holding the URL")
    apply.add_argument("--cloudsql-instance", help="PROJECT:REGION:INSTANCE, mounted at /cloudsql")
    apply.add_argument("--bucket", help="GCS bucket for uploaded documents (env LIGHTONOCR_BUCKET)")
    apply.add_argument("--operator", action="append", dest="operators", metavar="EMAIL|@DOMAIN")
    apply.add_argument("--viewer", action="append", dest="viewers", metavar="EMAIL|@DOMAIN")
    apply.add_argument("--host", action="append", dest="hosts", help="a custom domain in front")
    apply.add_argument("--min", type=int, dest="min_instances", help="instance floor (1)")
    apply.add_argument("--max", type=int, dest="max_instances", help="instance ceiling (3)")
    apply.add_argument("--cpu", help="vCPU limit (2)")
    apply.add_argument("--memory", help="memory limit (4Gi)")
    apply.add_argument("--service-account", help="runtime service account")
    apply.add_argument(
        "--invoker",
        action="append",
        dest="invokers",
        metavar="MEMBER",
        help="grant roles/run.invoker (IAP's service agent), never allUsers",
    )
    actions.add_parser("status", parents=[where], help="show the console's service")


_FLAGS = (
    "service_url",
    "image",
    "tag",
    "repository",
    "database_url",
    "database_url_secret",
    "cloudsql_instance",
    "bucket",
    "min_instances",
    "max_instances",
    "cpu",
    "memory",
    "service_account",
)


def console_spec_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> ConsoleSpec:
    """Flags win over the environment; lists come from repeated flags or comma lists."""
    values: dict[str, Any] = {
        name: getattr(args, name) for name in _FLAGS if getattr(args, name) is not None
    }
    settings = DeploySettings.from_env(env)
    values["project_number"] = args.project_number or settings.project_number
    values["gpu_service"] = args.gpu_service or settings.service
    values["operators"] = tuple(args.operators or settings.operators)
    values["viewers"] = tuple(args.viewers or settings.viewers)
    values["hosts"] = tuple(args.hosts or ())
    if "bucket" not in values and settings.bucket:
        values["bucket"] = settings.bucket
    values["invokers"] = tuple(args.invokers or ())
    return ConsoleSpec(**values)


def _targets(
    args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[ServiceTarget, ServiceTarget]:
    settings = DeploySettings.from_env(env)
    console = ServiceTarget.from_env(
        env,
        project=args.project,
        region=args.region,
        service=args.service or settings.console_service,
    )
    gpu = dataclasses.replace(console, service=args.gpu_service or settings.service)
    return console, gpu


def run_console(args: argparse.Namespace, env: Mapping[str, str], out: TextIO, err: TextIO) -> None:
    target, gpu = _targets(args, env)
    deployer = ConsoleDeployer(target, gpu, env=env)
    if args.console_command == "apply":
        spec = console_spec_from_args(args, env)
        if args.dry_run:
            service = deployer.build_console(spec)
            print(
                f"# Console:       {target.service} ({target.project}, {target.region})", file=err
            )
            print("# Access:        IAP on the service, no public invoker", file=err)
            print(f"# Operates:      {spec.service_url}", file=err)
            print(request_json(service), file=out)
            return
        info = deployer.apply_console(spec)
        print(f"Deployed {info.name} behind IAP: {info.url}", file=out)
        print(f"Ready revision: {info.latest_ready_revision}", file=out)
        # Object access on that one bucket only (the deployer may not administer buckets;
        # deploy/setup_service_accounts.sh with CONSOLE_BUCKET does the same).
        print(
            f"Documents go to gs://{spec.bucket}; once, grant the console's account object "
            f"access there: gcloud storage buckets add-iam-policy-binding gs://{spec.bucket} "
            f"--member=serviceAccount:{spec.service_account_for(target)} "
            "--role=roles/storage.objectUser",
            file=out,
        )
        return
    status = deployer.console_status()
    info = status.service
    rows = [
        ("Service", f"{info.name} ({target.project}, {target.region})"),
        ("URL", info.url or "-"),
        ("State", "ready" if info.ready else "NOT READY"),
        ("IAP", "on" if status.iap_enabled else "OFF: anyone with run.invoker reaches it"),
        ("Session affinity", "on" if status.session_affinity else "off"),
        ("Invokers", ", ".join(status.invokers) or "-"),
        ("Instances", f"min {info.min_instances} / max {info.max_instances}"),
        ("Image", info.image or "-"),
    ]
    for label, value in rows:
        print(f"{label + ':':<18}{value}", file=out)
