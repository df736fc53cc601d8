"""Every environment variable `deploy` reads, in one table (`VARIABLES`: name, field, type,
default, meaning), read here and nowhere else; the README's table of deploy variables is
tested against it (tests/test_settings_table.py). `python -m deploy.settings` lists them.

Flags on the command line win over these; unset, empty or blank variables mean the default
(for the spec's fields: leave the spec's own value alone).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocr_core._variables import SettingsError, Variable, listing, markdown_table

__all__ = ["DeploySettings", "SettingsError"]

DEFAULT_REGION = "us-central1"  # has L4 GPUs for Cloud Run
DEFAULT_SERVICE = "lightonocr"
CONSOLE_SERVICE = "lightonocr-console"


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list, as written (e-mails keep their case for the console's env)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


PROJECT = Variable(
    "GOOGLE_CLOUD_PROJECT", "project", str, "", "the Google Cloud project (`--project`)"
)
REGION = Variable(
    "LIGHTONOCR_REGION", "region", str, DEFAULT_REGION, "Cloud Run region (`--region`)"
)
SERVICE = Variable(
    "LIGHTONOCR_SERVICE",
    "service",
    str,
    DEFAULT_SERVICE,
    "the GPU service's name (`--service`; the console's `--gpu-service`)",
)
CONSOLE_SERVICE_NAME = Variable(
    "LIGHTONOCR_CONSOLE_SERVICE",
    "console_service",
    str,
    CONSOLE_SERVICE,
    "the console's service name (`deploy console --service`)",
)
PROJECT_NUMBER = Variable(
    "LIGHTONOCR_PROJECT_NUMBER",
    "project_number",
    str,
    "",
    "the project NUMBER, for IAP's audience (`deploy console apply --project-number`)",
    shown="none",
)
OPERATORS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_OPERATORS",
    "operators",
    _names,
    (),
    "comma-separated e-mails or `@domain` entries who may operate the console "
    "(`deploy console apply --operator`)",
)
VIEWERS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_VIEWERS",
    "viewers",
    _names,
    (),
    "comma-separated e-mails or `@domain` entries who may read the console "
    "(`deploy console apply --viewer`)",
)
BUCKET: Variable[str | None] = Variable(
    "LIGHTONOCR_BUCKET",
    "bucket",
    str,
    None,
    "a GCS bucket for uploaded documents' bytes (the team deployment's `--bucket`)",
    shown="none: `objects/` in the data folder",
)
IMAGE: Variable[str | None] = Variable(
    "LIGHTONOCR_IMAGE", "image", str, None, "full image reference (`--image`)"
)
IMAGE_TAG: Variable[str | None] = Variable(
    "LIGHTONOCR_IMAGE_TAG", "tag", str, None, "image tag in Artifact Registry (`--tag`)"
)
ARTIFACT_REPO: Variable[str | None] = Variable(
    "LIGHTONOCR_ARTIFACT_REPO",
    "repository",
    str,
    None,
    "Artifact Registry repository (`--repository`)",
    shown="the spec's (`lightonocr`)",
)
MIN_INSTANCES: Variable[int | None] = Variable(
    "LIGHTONOCR_MIN_INSTANCES",
    "min_instances",
    int,
    None,
    "the GPU service's instance floor (`--min`)",
    shown="the spec's (`0`)",
)
MAX_INSTANCES: Variable[int | None] = Variable(
    "LIGHTONOCR_MAX_INSTANCES",
    "max_instances",
    int,
    None,
    "the GPU service's instance ceiling (`--max`)",
    shown="the spec's (`3`)",
)
RUN_SERVICE_ACCOUNT: Variable[str | None] = Variable(
    "LIGHTONOCR_RUN_SERVICE_ACCOUNT",
    "service_account",
    str,
    None,
    "the GPU service's runtime service account (`--service-account`)",
    shown="the spec's (`lightonocr-run@PROJECT.iam.gserviceaccount.com`)",
)
RUN_ENDPOINT: Variable[str | None] = Variable(
    "LIGHTONOCR_RUN_ENDPOINT",
    "run_endpoint",
    str,
    None,
    "a loopback Cloud Run API (HOST:PORT, unencrypted) for fakes and emulators",
    shown="none: Google's",
)
LOGGING_ENDPOINT: Variable[str | None] = Variable(
    "LIGHTONOCR_LOGGING_ENDPOINT",
    "logging_endpoint",
    str,
    None,
    "a loopback Cloud Logging API (HOST:PORT, unencrypted) for fakes and emulators",
    shown="none: Google's",
)

# Every variable `deploy` reads.
VARIABLES: tuple[Variable[Any], ...] = (
    PROJECT,
    REGION,
    SERVICE,
    CONSOLE_SERVICE_NAME,
    PROJECT_NUMBER,
    OPERATORS,
    VIEWERS,
    BUCKET,
    IMAGE,
    IMAGE_TAG,
    ARTIFACT_REPO,
    MIN_INSTANCES,
    MAX_INSTANCES,
    RUN_SERVICE_ACCOUNT,
    RUN_ENDPOINT,
    LOGGING_ENDPOINT,
)
# The spec's fields a variable may override (`ServiceSpec.with_env`).
SPEC_VARIABLES: tuple[Variable[Any], ...] = (
    IMAGE,
    IMAGE_TAG,
    ARTIFACT_REPO,
    MIN_INSTANCES,
    MAX_INSTANCES,
    RUN_SERVICE_ACCOUNT,
)


@dataclass(frozen=True, slots=True)
class DeploySettings:
    """What `deploy` takes from the environment; built only by `from_env` (the defaults live
    in the table above)."""

    project: str
    region: str
    service: str
    console_service: str
    project_number: str
    operators: tuple[str, ...]
    viewers: tuple[str, ...]
    bucket: str | None
    image: str | None
    tag: str | None
    repository: str | None
    min_instances: int | None
    max_instances: int | None
    service_account: str | None
    run_endpoint: str | None
    logging_endpoint: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeploySettings:
        """Raises SettingsError naming a variable whose value is not of its kind."""
        env = os.environ if env is None else env
        return cls(
            project=PROJECT.read(env),
            region=REGION.read(env),
            service=SERVICE.read(env),
            console_service=CONSOLE_SERVICE_NAME.read(env),
            project_number=PROJECT_NUMBER.read(env),
            operators=OPERATORS.read(env),
            viewers=VIEWERS.read(env),
            bucket=BUCKET.read(env),
            image=IMAGE.read(env),
            tag=IMAGE_TAG.read(env),
            repository=ARTIFACT_REPO.read(env),
            min_instances=MIN_INSTANCES.read(env),
            max_instances=MAX_INSTANCES.read(env),
            service_account=RUN_SERVICE_ACCOUNT.read(env),
            run_endpoint=RUN_ENDPOINT.read(env),
            logging_endpoint=LOGGING_ENDPOINT.read(env),
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m deploy.settings`: each variable, its default and what this shell sets;
    `--markdown`: the README's table."""
    args = sys.argv[1:] if argv is None else argv
    print(markdown_table(VARIABLES) if args == ["--markdown"] else listing(VARIABLES, os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
