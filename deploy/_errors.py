"""Google Cloud failures turned into one clear, actionable sentence.

The CLI and the console's cloudrun platform both show these to people who must act on them
(log in, ask for a role, raise a quota), so each error says what we were doing, what went
wrong, and what to do next. Messages are built from our own words plus the server's status
text with anything token-shaped removed: credentials never reach a message.
"""

from __future__ import annotations

import re

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

# The quota a GPU service without zonal redundancy (our spec's choice) draws on, and regions
# that offer L4 GPUs to Cloud Run services (Cloud Run's GPU documentation).
L4_QUOTA = "Total Nvidia L4 GPU allocation without zonal redundancy, per project per region"
L4_REGIONS = ("us-central1", "europe-west1", "europe-west4", "asia-southeast1")


class CloudError(Exception):
    """A Cloud Run / IAM call failed; `action` is what we were doing, `hint` what to do."""

    def __init__(self, message: str, *, action: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class MissingCredentials(CloudError):
    """No usable Google credentials (no ADC, expired login, unauthenticated call)."""


class PermissionDeniedError(CloudError):
    """The caller lacks a role; `role` names the one that would allow the action."""

    def __init__(self, message: str, *, action: str, hint: str = "", role: str | None) -> None:
        super().__init__(message, action=action, hint=hint)
        self.role = role


class QuotaExceeded(CloudError):
    """A quota or rate limit was hit (GPU quota per region is the usual one)."""


class ServiceNotFound(CloudError):
    """The service (or revision, or project) does not exist where we looked."""


class CloudUnavailable(CloudError):
    """The API did not answer in time or is down; retrying later may work."""


class InvalidSpec(ValueError):
    """A service spec, target or CLI value that Cloud Run would reject (or we refuse)."""


class PublicAccessRefused(InvalidSpec):
    """Someone asked for allUsers / allAuthenticatedUsers access: the service is IAM-only."""


# Bearer tokens, OAuth access tokens (ya29.), JWTs and key-looking strings.
_SECRETISH = re.compile(
    r"(?i)bearer\s+\S+|ya29\.[\w\-.]+|eyJ[\w\-]+\.[\w\-]+\.[\w\-]*|AIza[\w\-]{20,}"
)


def _server_text(exc: Exception) -> str:
    """The server's own words, short and with anything token-shaped redacted."""
    text = exc.message if isinstance(exc, gexc.GoogleAPICallError) else str(exc)
    text = _SECRETISH.sub("[redacted]", str(text or "")).strip()
    return text[:300]


def explain_google_error(
    exc: Exception, *, action: str, role: str | None = None, project: str | None = None
) -> CloudError:
    """Map a google-api-core / google-auth exception to the CloudError a person can act on.

    `action` reads as a gerund phrase ("scaling service lightonocr"); `role` is the IAM role
    the action needs, named in permission errors; `project` makes the hints concrete.
    """
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, gexc.RetryError) and exc.cause is not None:
        return explain_google_error(exc.cause, action=action, role=role, project=project)
    where = f" on project {project}" if project else ""
    detail = _server_text(exc)
    suffix = f" ({detail})" if detail else ""
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return MissingCredentials(
            f"No Google credentials found while {action}.",
            action=action,
            hint="Run `gcloud auth application-default login`, or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file.",
        )
    if isinstance(exc, auth_exc.RefreshError | gexc.Unauthenticated | gexc.Unauthorized):
        return MissingCredentials(
            f"Google rejected the credentials while {action}{suffix}.",
            action=action,
            hint="Log in again with `gcloud auth application-default login`.",
        )
    if isinstance(exc, gexc.Forbidden):  # PermissionDenied is a Forbidden
        needs = f"the caller needs {role}{where}" if role else f"the caller lacks a role{where}"
        return PermissionDeniedError(
            f"Permission denied while {action}: {needs}{suffix}.",
            action=action,
            role=role,
            hint=(
                f"Ask a project owner to grant {role} to your account or service account."
                if role
                else "Ask a project owner which role this needs."
            ),
        )
    if isinstance(exc, gexc.NotFound):
        return ServiceNotFound(
            f"Not found while {action}{suffix}.",
            action=action,
            hint="Check --project, --region and --service (or GOOGLE_CLOUD_PROJECT, "
            "LIGHTONOCR_REGION, LIGHTONOCR_SERVICE); deploy it first with "
            "`python -m deploy apply`.",
        )
    if isinstance(exc, gexc.ResourceExhausted | gexc.TooManyRequests):
        return QuotaExceeded(
            f"Quota exceeded while {action}{suffix}.",
            action=action,
            hint="This service runs without GPU zonal redundancy, so it needs the quota "
            f"'{L4_QUOTA}' in its region{where}. Request it on the Quotas page "
            f"(L4 GPUs for Cloud Run services are in {', '.join(L4_REGIONS)}, among others: "
            "see Cloud Run's GPU page), lower the instance ceiling, or wait and retry.",
        )
    if isinstance(
        exc,
        gexc.ServiceUnavailable
        | gexc.DeadlineExceeded
        | gexc.GatewayTimeout
        | gexc.InternalServerError
        | TimeoutError,
    ):
        return CloudUnavailable(
            f"Google Cloud did not answer while {action}{suffix}.",
            action=action,
            hint="This is usually transient: retry in a minute.",
        )
    if isinstance(exc, gexc.FailedPrecondition | gexc.Aborted | gexc.Conflict):
        return CloudError(
            f"Cloud Run refused while {action}{suffix}.",
            action=action,
            hint="See `python -m deploy status` and the revision's logs; after a concurrent "
            "change, retry.",
        )
    return CloudError(f"Failed while {action}{suffix}.", action=action)
