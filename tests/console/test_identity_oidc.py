"""Outside IAP, st.login (issue 14): when it is configured, and how st.user becomes a person.

The whole sign-in against a provider on loopback runs in the browser
(tests/e2e/test_roles_oidc.py); these are the decisions taken on its result.
"""

from __future__ import annotations

import pytest

from console._identity import (
    IdentityError,
    IdentitySettings,
    Role,
    oidc_configured,
    resolve_identity,
)

SHARED = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32}
PROVIDER = {
    "client_id": "console",
    "client_secret": "secret",
    "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
}
SETTINGS = IdentitySettings(
    mode="oidc", operators=("ana@bank.example",), viewers=("@bank.example",)
)


@pytest.mark.parametrize(
    "auth",
    [{**SHARED, **PROVIDER}, {**SHARED, "google": PROVIDER}],
    ids=["in [auth]", "in [auth.google]"],
)
def test_a_complete_auth_section_turns_st_login_on(auth: dict[str, object]) -> None:
    assert oidc_configured(auth)


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        PROVIDER,  # no redirect_uri / cookie_secret
        {**SHARED, "client_id": "console"},  # no secret, no provider metadata
        {**SHARED, "google": PROVIDER, "okta": PROVIDER},  # st.login() would not know which
    ],
    ids=["no secrets", "empty", "no shared keys", "partial provider", "two providers"],
)
def test_without_a_complete_auth_section_the_console_stays_local(auth: object) -> None:
    assert not oidc_configured(auth)  # type: ignore[arg-type]


def test_a_verified_email_from_the_provider_is_the_person_with_its_role() -> None:
    user = {"is_logged_in": True, "email": "ana@bank.example", "email_verified": True}
    identity = resolve_identity(SETTINGS, {}, oidc_user=user)
    assert (identity.name, identity.role, identity.source) == (
        "ana@bank.example",
        Role.OPERATOR,
        "oidc",
    )
    viewer = {**user, "email": "qa@bank.example"}
    assert resolve_identity(SETTINGS, {}, oidc_user=viewer).role is Role.VIEWER


@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": True, "email": "ana@bank.example", "email_verified": False},
        {"is_logged_in": True, "email": "ana@bank.example"},  # the provider did not say
        {"is_logged_in": True, "email_verified": True},
        {"is_logged_in": False},
    ],
    ids=["unverified", "verification unknown", "no email", "signed out"],
)
def test_anything_less_than_a_verified_email_is_not_signed_in(user: dict[str, object]) -> None:
    with pytest.raises(IdentityError):
        resolve_identity(SETTINGS, {}, oidc_user=user)


def test_a_verified_person_on_neither_list_is_refused() -> None:
    user = {"is_logged_in": True, "email": "eve@elsewhere.example", "email_verified": True}
    with pytest.raises(IdentityError, match="not on the console's list"):
        resolve_identity(SETTINGS, {}, oidc_user=user)
