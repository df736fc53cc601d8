"""Credentials: static bearer and Google ID tokens, refreshed once on 401, never leaked."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import google.oauth2.credentials
import pytest
from google.auth.exceptions import DefaultCredentialsError, RefreshError

from ocr_core import AuthError, ClientSettings, OCRClient
from ocr_core._auth import GoogleIdTokenAuth, impersonating_fetcher, make_auth
from tests.fakes.fault_server import FaultServer
from tests.fakes.google_iam_credentials import FakeIamCredentials
from tests.fakes.inputs import RecordingSleep, png, unsigned_jwt

RUNNER = "ocr-runner@ocr-prod.iam.gserviceaccount.com"


class Minter:
    """An injected `id_token_fetcher`: mints numbered JWTs and records the audiences asked."""

    def __init__(self, lifetime_s: float = 3600.0) -> None:
        self.audiences: list[str] = []
        self.expiry = int(time.time() + lifetime_s)

    def token(self, n: int) -> str:
        return unsigned_jwt({"n": n, "exp": self.expiry})

    def __call__(self, audience: str) -> str:
        self.audiences.append(audience)
        return self.token(len(self.audiences))


def authorizations(server: FaultServer) -> list[str | None]:
    """The Authorization header of every request (chat, and the /v1/models lookup)."""
    return [r.headers.get("authorization") for r in server.requests]


def google_client(server: FaultServer, fetcher, **overrides: object) -> OCRClient:
    return OCRClient(
        server.base_url,
        settings=ClientSettings(auth="google"),
        id_token_fetcher=fetcher,
        sleep=RecordingSleep(),
        **overrides,
    )


async def test_id_token_minted_for_the_service_url_is_sent_as_bearer(server):
    minter = Minter()
    server.faults.accept_tokens = {minter.token(1)}
    async with google_client(server, minter) as ocr:
        assert await ocr.extract_text(png("blue")) == "page #0000ff"
    assert minter.audiences == [server.base_url]
    assert set(authorizations(server)) == {f"Bearer {minter.token(1)}"}


async def test_id_token_is_cached_until_shortly_before_expiry(server):
    minter = Minter(lifetime_s=3600)
    async with google_client(server, minter) as ocr:
        for _ in range(3):
            await ocr.extract_text(png())
    assert len(minter.audiences) == 1


async def test_token_about_to_expire_is_minted_again(server):
    minter = Minter(lifetime_s=60)  # inside the refresh margin
    async with google_client(server, minter) as ocr:
        for _ in range(2):
            await ocr.extract_text(png())
    assert len(minter.audiences) == len(server.requests)  # a fresh token for every request
    assert len(set(authorizations(server))) == len(server.requests)


async def test_401_refreshes_the_token_once_then_succeeds(server):
    minter = Minter()
    server.faults.accept_tokens = {minter.token(2)}  # the first token is "revoked"
    async with google_client(server, minter) as ocr:
        page = await ocr.ocr_image(png())
    assert page.ok, page.error
    first, *after_refresh = authorizations(server)
    assert first == f"Bearer {minter.token(1)}"
    assert set(after_refresh) == {f"Bearer {minter.token(2)}"}
    assert len(minter.audiences) == 2


async def test_401_after_refresh_is_an_auth_error_without_further_retries(server):
    minter = Minter()
    server.faults.accept_tokens = set()
    async with google_client(server, minter) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AuthError)
    assert page.error.status_code == 401
    assert len(server.chat_requests()) == 2  # the request, and its one retry with a new token


async def test_static_bearer_token_is_sent(server):
    server.faults.accept_tokens = {"static-secret"}
    async with OCRClient(server.base_url, settings=ClientSettings(token="static-secret")) as ocr:
        assert await ocr.extract_text(png()) == "page #ffffff"
    assert set(authorizations(server)) == {"Bearer static-secret"}


async def test_user_credentials_fall_back_to_the_env_token(server):
    def user_credentials(audience: str) -> str:
        raise DefaultCredentialsError("authorized_user credentials cannot mint ID tokens")

    server.faults.accept_tokens = {"pre-minted"}
    settings = ClientSettings(auth="google", token="pre-minted")
    async with OCRClient(
        server.base_url, settings=settings, id_token_fetcher=user_credentials
    ) as ocr:
        assert await ocr.extract_text(png()) == "page #ffffff"


async def test_without_a_fallback_the_error_says_what_to_do(server):
    def user_credentials(audience: str) -> str:
        raise DefaultCredentialsError("no service account")

    async with google_client(server, user_credentials) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AuthError)
    message = str(page.error)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message
    # gcloud refuses --audiences for user accounts: suggest what works for them.
    assert "LIGHTONOCR_TOKEN=$(gcloud auth print-identity-token)" in message
    assert "LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT=" in message
    assert "--impersonate-service-account=SA --audiences=" in message
    assert "print-identity-token --audiences" not in message
    assert server.chat_requests() == []


async def test_tokens_never_reach_logs_reprs_or_errors(server, caplog):
    caplog.set_level(logging.DEBUG)
    minter = Minter()
    server.faults.accept_tokens = set()
    async with google_client(server, minter) as ocr:
        page = await ocr.ocr_image(png())
        shown = [caplog.text, repr(ocr), repr(ocr._auth), str(page.error), repr(page.error)]
        shown.append(repr(ClientSettings(token=minter.token(1))))
    assert page.error is not None
    for secret in (minter.token(1), minter.token(2)):
        for text in shown:
            assert secret not in text


def test_cloud_run_urls_default_to_google_id_tokens():
    settings = ClientSettings(base_url="https://ocr-abc123-ew.a.run.app")
    auth = make_auth(settings)
    assert isinstance(auth, GoogleIdTokenAuth)
    assert auth.audience == "https://ocr-abc123-ew.a.run.app"


def test_bearer_without_a_token_is_an_auth_error():
    with pytest.raises(AuthError, match="LIGHTONOCR_TOKEN"):
        make_auth(ClientSettings(auth="bearer"))


async def test_warm_up_refreshes_a_rejected_id_token_once(server):
    minter = Minter()
    server.faults.accept_tokens = {minter.token(2)}
    async with google_client(server, minter) as ocr:
        report = await ocr.warm_up(timeout=5)
    assert report.ready, report.error
    assert len(minter.audiences) == 2


# --- a static LIGHTONOCR_TOKEN that dies --------------------------------------------------


async def test_an_expired_static_token_is_refused_before_any_request(server):
    dead = unsigned_jwt({"exp": int(time.time()) - 600})
    async with OCRClient(server.base_url, settings=ClientSettings(token=dead)) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AuthError)
    assert "LIGHTONOCR_TOKEN expired 10 min ago" in str(page.error)
    assert "gcloud auth print-identity-token" in str(page.error)
    assert dead not in str(page.error)
    assert server.chat_requests() == []


async def test_a_static_token_about_to_expire_is_sent_with_one_warning(server, caplog):
    caplog.set_level(logging.WARNING)
    dying = unsigned_jwt({"exp": int(time.time()) + 120})
    server.faults.accept_tokens = {dying}
    async with OCRClient(server.base_url, settings=ClientSettings(token=dying)) as ocr:
        for _ in range(3):
            assert (await ocr.ocr_image(png())).ok
    warnings = [r.getMessage() for r in caplog.records if "LIGHTONOCR_TOKEN" in r.getMessage()]
    assert len(warnings) == 1 and "expires in 2 min" in warnings[0]
    assert dying not in caplog.text


async def test_an_opaque_static_token_has_no_expiry_to_check(server):
    server.faults.accept_tokens = {"gateway-key"}
    async with OCRClient(server.base_url, settings=ClientSettings(token="gateway-key")) as ocr:
        assert (await ocr.ocr_image(png())).ok


async def test_an_expired_fallback_token_is_refused_too(server):
    def user_credentials(audience: str) -> str:
        raise DefaultCredentialsError("authorized_user credentials cannot mint ID tokens")

    dead = unsigned_jwt({"exp": int(time.time()) - 7200})
    settings = ClientSettings(auth="google", token=dead)
    async with OCRClient(
        server.base_url, settings=settings, id_token_fetcher=user_credentials
    ) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AuthError) and "expired 120 min ago" in str(page.error)
    assert server.chat_requests() == []


# --- impersonating a service account (google-auth against a fake IAM Credentials) ----------


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIamCredentials]:
    """google-auth's requests session reaches the fake through HTTPS_PROXY, trusting its CA."""
    expiry = int(time.time()) + 3600
    with FakeIamCredentials() as fake:
        fake.mint = lambda account, audience: unsigned_jwt(
            {"email": account, "aud": audience, "exp": expiry}
        )
        for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", fake.proxy_url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        yield fake


def _user_credentials() -> google.oauth2.credentials.Credentials:
    """A person's (already refreshed) user credentials, as ADC would load them."""
    return google.oauth2.credentials.Credentials(token="user-access-token")


def test_impersonation_mints_an_id_token_for_the_service_through_iam_credentials(iam):
    fetch = impersonating_fetcher(RUNNER, source=_user_credentials())

    token = fetch("https://ocr-abc123-ew.a.run.app")

    (call,) = iam.requests
    assert call.path == f"/v1/projects/-/serviceAccounts/{RUNNER}:generateIdToken"
    assert call.authorization == "Bearer user-access-token"
    assert call.body["audience"] == "https://ocr-abc123-ew.a.run.app"
    assert call.body["includeEmail"] is True
    assert token == iam.mint(RUNNER, "https://ocr-abc123-ew.a.run.app")
    assert iam.refused_hosts == []


def test_impersonation_without_token_creator_is_a_refresh_error_naming_the_permission(iam):
    iam.status = 403
    fetch = impersonating_fetcher(RUNNER, source=_user_credentials())

    with pytest.raises(RefreshError, match="getOpenIdToken"):
        fetch("https://ocr-abc123-ew.a.run.app")


async def test_the_client_sends_the_impersonated_token_to_the_service(iam, server):
    audience_token = iam.mint(RUNNER, server.base_url)
    server.faults.accept_tokens = {audience_token}
    settings = ClientSettings(auth="google", impersonate_service_account=RUNNER)
    fetcher = impersonating_fetcher(RUNNER, source=_user_credentials())
    async with OCRClient(server.base_url, settings=settings, id_token_fetcher=fetcher) as ocr:
        assert (await ocr.ocr_image(png())).ok
    assert set(authorizations(server)) == {f"Bearer {audience_token}"}


def test_the_impersonation_setting_comes_from_the_environment_and_selects_google_tokens():
    settings = ClientSettings.from_env(
        {
            "LIGHTONOCR_SERVICE_URL": "https://internal-ocr.example.com",
            "LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT": RUNNER,
        }
    )

    auth = make_auth(settings)

    assert settings.impersonate_service_account == RUNNER
    assert isinstance(auth, GoogleIdTokenAuth)
    assert auth.audience == "https://internal-ocr.example.com"


async def test_a_custom_audience_is_minted_instead_of_the_url(server):
    # Issue 31, item 8: a tag URL and the service share the service's custom audience.
    minter = Minter()
    server.faults.accept_tokens = {minter.token(1)}
    settings = ClientSettings(auth="google", audience="https://lightonocr.example.invalid")
    client = OCRClient(server.base_url, settings=settings, id_token_fetcher=minter)
    async with client as ocr:
        assert await ocr.extract_text(png("blue")) == "page #0000ff"
    assert minter.audiences == ["https://lightonocr.example.invalid"]


def test_the_audience_comes_from_the_environment():
    env = {"LIGHTONOCR_AUDIENCE": "https://lightonocr.example.invalid"}
    assert ClientSettings.from_env(env).audience == "https://lightonocr.example.invalid"
