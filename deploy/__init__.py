"""Deploy and operate the GPU OCR service on Cloud Run: one declarative spec, applied with run_v2.

`python -m deploy --help` is the CLI; the console's cloudrun platform uses `CloudRunDeployer`,
and the console's canary (console/golden/_canary.py) the cloud steps a gated rollout takes:
a candidate revision under a tag, its startup log and smoke check, promotion. Nothing here
imports the console.
"""

import warnings

# Some google-api-core releases warn at import time that this Python nears its end of life.
# `python -m deploy` promises one line per outcome on stderr, and this notice is not ours to
# act on, so it is silenced before the Google clients are imported (this filter only).
warnings.filterwarnings(
    "ignore", category=FutureWarning, module=r"google\.api_core\._python_version_support"
)

from deploy._args import add_spec_arguments, spec_from_args, target_arguments  # noqa: E402
from deploy._candidate import candidate_tag  # noqa: E402
from deploy._errors import (  # noqa: E402 - after the filter above
    CloudError,
    CloudUnavailable,
    InvalidSpec,
    MissingCredentials,
    PermissionDeniedError,
    PublicAccessRefused,
    QuotaExceeded,
    ServiceNotFound,
    explain_google_error,
)
from deploy._info import RevisionInfo, ServiceInfo, service_info  # noqa: E402
from deploy._service import CloudRunDeployer  # noqa: E402
from deploy._smoke import StartupCheck, check_startup  # noqa: E402
from deploy._spec import ServiceSpec, ServiceTarget  # noqa: E402
from deploy._startup_log import logging_client, startup_messages  # noqa: E402

__all__ = [
    "CloudError",
    "CloudRunDeployer",
    "CloudUnavailable",
    "InvalidSpec",
    "MissingCredentials",
    "PermissionDeniedError",
    "PublicAccessRefused",
    "QuotaExceeded",
    "RevisionInfo",
    "ServiceInfo",
    "ServiceNotFound",
    "ServiceSpec",
    "ServiceTarget",
    "StartupCheck",
    "add_spec_arguments",
    "candidate_tag",
    "check_startup",
    "explain_google_error",
    "logging_client",
    "service_info",
    "spec_from_args",
    "startup_messages",
    "target_arguments",
]
