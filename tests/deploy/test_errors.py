"""explain_google_error: each Google failure becomes one actionable CloudError."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from deploy import (
    CloudError,
    CloudUnavailable,
    MissingCredentials,
    PermissionDeniedError,
    QuotaExceeded,
    ServiceNotFound,
    explain_google_error,
)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (gexc.PermissionDenied("denied"), PermissionDeniedError),
        (gexc.Forbidden("forbidden"), PermissionDeniedError),
        (gexc.NotFound("no such service"), ServiceNotFound),
        (gexc.ResourceExhausted("quota"), QuotaExceeded),
        (gexc.Unauthenticated("bad token"), MissingCredentials),
        (auth_exc.DefaultCredentialsError("no ADC"), MissingCredentials),
        (auth_exc.RefreshError("expired"), MissingCredentials),
        (gexc.ServiceUnavailable("down"), CloudUnavailable),
        (gexc.DeadlineExceeded("slow"), CloudUnavailable),
        (gexc.FailedPrecondition("revision not ready"), CloudError),
        (gexc.InvalidArgument("odd"), CloudError),
    ],
)
def test_each_google_failure_maps_to_its_kind(raised: Exception, expected: type) -> None:
    error = explain_google_error(raised, action="reading service s")

    assert type(error) is expected
    assert error.action == "reading service s"


def test_permission_error_names_action_role_and_project() -> None:
    error = explain_google_error(
        gexc.PermissionDenied("Permission 'run.services.update' denied"),
        action="scaling service lightonocr",
        role="roles/run.developer",
        project="p1",
    )

    assert isinstance(error, PermissionDeniedError)
    assert error.role == "roles/run.developer"
    assert str(error).startswith(
        "Permission denied while scaling service lightonocr: "
        "the caller needs roles/run.developer on project p1"
    )
    assert "grant roles/run.developer" in error.hint


def test_missing_credentials_says_how_to_log_in() -> None:
    error = explain_google_error(
        auth_exc.DefaultCredentialsError("Your default credentials were not found"),
        action="reading service s",
    )

    assert "gcloud auth application-default login" in str(error)


def test_retry_errors_are_explained_by_their_cause() -> None:
    retry = gexc.RetryError("gave up", cause=gexc.ResourceExhausted("quota"))

    assert isinstance(explain_google_error(retry, action="deploying"), QuotaExceeded)


def test_token_shaped_text_from_the_server_never_reaches_the_message() -> None:
    secret = "ya29.a0AfH6SMBx-secret-token"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    raised = gexc.Unauthenticated(f"Bearer {secret} rejected; id token {jwt} expired")

    error = explain_google_error(raised, action="reading service s")

    text = f"{error} {error!r} {error.hint}"
    assert secret not in text and "secret-token" not in text
    assert jwt not in text


def test_a_failed_rollout_points_at_status_and_logs() -> None:
    error = explain_google_error(
        gexc.FailedPrecondition("Revision 'x' is not ready"), action="deploying service s"
    )

    assert "Revision 'x' is not ready" in str(error)
    assert "python -m deploy status" in error.hint


def test_quota_error_names_the_l4_quota_without_zonal_redundancy_and_l4_regions() -> None:
    error = explain_google_error(
        gexc.ResourceExhausted("Quota exceeded for nvidia_l4_gpu_allocation_no_zonal_redundancy"),
        action="deploying service lightonocr",
        project="ocr-prod",
    )

    assert isinstance(error, QuotaExceeded)
    assert "Total Nvidia L4 GPU allocation without zonal redundancy" in error.hint
    assert "us-central1" in error.hint and "europe-west4" in error.hint
