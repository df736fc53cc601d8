"""Deploy and operate the GPU OCR service on Cloud Run: one declarative spec, applied with run_v2.

`python -m deploy --help` is the CLI; the console's cloudrun platform uses `CloudRunDeployer`.
"""

from deploy._errors import (
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
from deploy._info import RevisionInfo, ServiceInfo, service_info
from deploy._service import CloudRunDeployer
from deploy._spec import ServiceSpec, ServiceTarget

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
    "explain_google_error",
    "service_info",
]
