"""Identity behind IAP: only a verified assertion names a person; roles gate actions.

The keys are generated here and served by a real HTTP server on loopback in IAP's format
(`{"key id": "PEM public key"}`), and google-auth fetches and checks them as it would IAP's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from console._identity import (
    IAP_ISSUER,
    Identity,
    IdentityError,
    IdentitySettings,
    PermissionDenied,
    Role,
    resolve_identity,
    verify_iap_assertion,
)
from tests.fakes.iap import AUDIENCE, IapKeys, serve_iap_keys

TOKEN_MARK = "not-a-secret-but-must-not-leak"


@pytest.fixture(scope="module")
def keys() -> Iterator[tuple[IapKeys, str]]:
    with serve_iap_keys(marker=TOKEN_MARK) as served:
        yield served, served.url


def _iap_settings(url: str, **overrides: object) -> IdentitySettings:
    return IdentitySettings(mode="iap", iap_audience=AUDIENCE, iap_keys_url=url, **overrides)


def test_a_valid_assertion_names_its_email(keys):
    keys_, url = keys
    verified = verify_iap_assertion(keys_.assertion(), audience=AUDIENCE, keys_url=url)
    assert verified.email == "ana@bank.example"
    assert verified.expires_at > time.time()


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4200}, "expired"),
        ({"aud": "/projects/999/global/backendServices/1"}, "another audience"),
        ({"iss": "https://accounts.google.com"}, "not issued by IAP"),
        ({"email": None}, "names no e-mail"),
        ({"exp": str(int(time.time()) + 600)}, "cannot be decoded"),
        ({"iat": "yesterday"}, "cannot be decoded"),
    ],
)
def test_an_assertion_that_is_not_valid_is_refused_with_its_reason(keys, claims, reason):
    keys_, url = keys
    with pytest.raises(IdentityError, match=reason) as caught:
        verify_iap_assertion(keys_.assertion(**claims), audience=AUDIENCE, keys_url=url)
    assert TOKEN_MARK not in str(caught.value)


def test_an_assertion_signed_with_another_key_is_refused(keys):
    keys_, url = keys
    forged = keys_.assertion(signing_key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(IdentityError, match="signature"):
        verify_iap_assertion(forged, audience=AUDIENCE, keys_url=url)


def test_an_unsigned_assertion_is_refused(keys):
    _keys, url = keys

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    unsigned = ".".join(
        [
            b64({"alg": "none", "kid": "iap-key-1"}),
            b64({"iss": IAP_ISSUER, "aud": AUDIENCE, "email": "eve@x.example", "exp": now + 60}),
            "",
        ]
    )
    with pytest.raises(IdentityError):
        verify_iap_assertion(unsigned, audience=AUDIENCE, keys_url=url)


def test_the_plain_email_header_alone_is_never_trusted(keys):
    _keys, url = keys
    headers = {"X-Goog-Authenticated-User-Email": "accounts.google.com:boss@bank.example"}
    with pytest.raises(IdentityError, match="no IAP assertion"):
        resolve_identity(_iap_settings(url), headers)


def test_unreachable_keys_are_an_identity_error_not_a_crash(keys):
    keys_, _url = keys
    with pytest.raises(IdentityError, match="could not be fetched"):
        verify_iap_assertion(keys_.assertion(), audience=AUDIENCE, keys_url="http://127.0.0.1:9/k")


def test_iap_mode_resolves_the_verified_person_and_role(keys):
    keys_, url = keys
    settings = _iap_settings(url, operators=("ana@bank.example",))
    headers = {"x-goog-iap-jwt-assertion": keys_.assertion()}
    identity = resolve_identity(settings, headers)
    assert (identity.name, identity.role, identity.source) == (
        "ana@bank.example",
        Role.OPERATOR,
        "iap",
    )
    assert identity.expires_at is not None and identity.expires_at > time.time()


def test_operators_may_be_named_by_domain():
    settings = IdentitySettings(operators=("@ops.bank.example",))
    assert settings.role_for("joe@ops.bank.example") is Role.OPERATOR
    assert settings.role_for("joe@bank.example") is Role.VIEWER


def test_without_a_viewer_list_every_verified_person_may_read():
    assert IdentitySettings().role_for("anyone@bank.example") is Role.VIEWER


def test_with_a_viewer_list_a_person_on_neither_list_is_refused():
    settings = IdentitySettings(viewers=("@bank.example",))
    assert settings.role_for("qa@bank.example") is Role.VIEWER
    with pytest.raises(IdentityError, match="not on the console's list"):
        settings.role_for("eve@elsewhere.example")


def test_a_viewer_is_refused_operator_actions_server_side():
    viewer = Identity("qa@bank.example", Role.VIEWER, "iap")
    with pytest.raises(PermissionDenied, match="scale the service needs the operator role"):
        viewer.require_operator("scale the service")
    Identity("ops@bank.example", Role.OPERATOR, "iap").require_operator("scale the service")


def test_local_mode_is_the_actor_as_operator():
    settings = IdentitySettings.from_env({"LIGHTONOCR_ACTOR": "maria"})
    assert resolve_identity(settings, {}) == Identity("maria", Role.OPERATOR, "local")


def test_oidc_mode_needs_a_logged_in_user_with_an_email():
    settings = IdentitySettings(mode="oidc", operators=("ana@bank.example",))
    with pytest.raises(IdentityError, match="not signed in"):
        resolve_identity(settings, {}, oidc_user={"is_logged_in": False})
    user = {"is_logged_in": True, "email": "ana@bank.example", "email_verified": True}
    assert resolve_identity(settings, {}, oidc_user=user).role is Role.OPERATOR


def test_iap_mode_without_an_audience_is_a_configuration_error():
    with pytest.raises(ValueError, match="LIGHTONOCR_IAP_AUDIENCE"):
        IdentitySettings.from_env({"LIGHTONOCR_IDENTITY": "iap"})
