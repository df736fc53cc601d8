"""Deploy and operate the GPU OCR service on Cloud Run: one declarative spec, applied with run_v2.

`python -m deploy --help` is the CLI; the console's cloudrun platform uses `CloudRunDeployer`.
"""

from deploy._errors import (
    CloudError,
    CloudUnavailable,
    MissingCredentials,
    PermissionDeniedError,
    QuotaExceeded,
    ServiceNotFound,
    explain_google_error,
)

__all__ = [
    "CloudError",
    "CloudUnavailable",
    "MissingCredentials",
    "PermissionDeniedError",
    "QuotaExceeded",
    "ServiceNotFound",
    "explain_google_error",
]
