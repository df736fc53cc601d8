"""Credentials for the service: none (local), a static bearer token, or Google ID tokens.

Cloud Run with IAM-only access wants a Google-signed ID token. Service accounts (and the
metadata server) mint one for the service URL; a developer's `gcloud auth
application-default login` user credentials cannot. A person then either impersonates a
service account (LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT: google-auth's
`impersonated_credentials.IDTokenCredentials`, i.e. IAM Credentials `generateIdToken`) or
hands in a token through LIGHTONOCR_TOKEN, and the error says exactly how. A static token
is a JWT that dies after an hour: near its end we warn, after it we refuse to send it (the
service would only answer 401) and say how to get a new one.

No token ever reaches a log line, a repr or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ._config import ClientSettings
from ._exceptions import AuthError

logger = logging.getLogger(__name__)

IdTokenFetcher = Callable[[str], str]

# Refresh this long before the token's `exp`, so a request never leaves with a dying token.
REFRESH_MARGIN_S = 300.0
# When a token's expiry cannot be read, assume Google's usual one-hour lifetime.
DEFAULT_LIFETIME_S = 3600.0
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_NEW_TOKEN_HINT = (
    "mint a new one (LIGHTONOCR_TOKEN=$(gcloud auth print-identity-token)) or let the "
    "client mint its own: LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT=SA@PROJECT.iam."
    "gserviceaccount.com"
)


class Auth:
    """No credentials: the local server."""

    kind = "none"

    async def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> bool:
        """Drop a cached credential after a 401; True if a fresh one may differ (worth a retry)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StaticToken:
    """LIGHTONOCR_TOKEN, checked against its own expiry (when it is a JWT) before each use."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self._token = token
        self._expiry = token_expiry(token)
        self._clock = clock
        self._warned = False

    def get(self) -> str:
        """The token; AuthError once it has expired, one warning while it is about to."""
        if self._expiry is None:  # an opaque key (e.g. an API gateway's): nothing to check
            return self._token
        left = self._expiry - self._clock()
        if left <= 0:
            raise AuthError(f"LIGHTONOCR_TOKEN expired {_ago(-left)} ago: {_NEW_TOKEN_HINT}")
        if left <= REFRESH_MARGIN_S and not self._warned:
            self._warned = True
            logger.warning("LIGHTONOCR_TOKEN expires in %s: %s", _ago(left), _NEW_TOKEN_HINT)
        return self._token


def _ago(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class BearerAuth(Auth):
    """A static token (a pre-minted ID token or an API gateway key)."""

    kind = "bearer"

    def __init__(self, token: str, *, clock: Callable[[], float] = time.time) -> None:
        if not token:
            raise AuthError("bearer auth needs a token: set LIGHTONOCR_TOKEN")
        self._token = StaticToken(token, clock)

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get()}"}


def google_fetcher(audience: str) -> str:
    """Mint an ID token with Application Default Credentials (blocking: metadata server/HTTP)."""
    import google.auth.transport.requests
    import google.oauth2.id_token

    return google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)


def impersonating_fetcher(service_account: str, source: Any = None) -> IdTokenFetcher:
    """Mint ID tokens as `service_account` from the caller's own credentials (ADC unless
    `source` is given); the caller needs roles/iam.serviceAccountTokenCreator on it."""

    def fetch(audience: str) -> str:
        import google.auth
        import google.auth.transport.requests
        from google.auth import impersonated_credentials

        credentials = source or google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])[0]
        target = impersonated_credentials.Credentials(
            source_credentials=credentials,
            target_principal=service_account,
            target_scopes=[CLOUD_PLATFORM_SCOPE],
        )
        id_token = impersonated_credentials.IDTokenCredentials(
            target, target_audience=audience, include_email=True
        )
        id_token.refresh(google.auth.transport.requests.Request())
        return str(id_token.token)

    return fetch


def token_expiry(token: str) -> float | None:
    """The JWT's `exp` (epoch seconds), read without verifying: we only need to know when to
    refresh, the service verifies the signature."""
    from google.auth import jwt

    try:
        claims = jwt.decode(token, verify=False)
    except Exception:  # not a JWT (e.g. an opaque test token): fall back to a default lifetime
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def _cannot_mint_message(audience: str) -> str:
    # `--audiences` is refused for user accounts; a bare print-identity-token works for them
    # (Cloud Run accepts a user's Google ID token when the user holds roles/run.invoker).
    return (
        f"cannot obtain a Google ID token for {audience}: user credentials cannot mint one. "
        "Either impersonate a service account that may invoke the service "
        "(LIGHTONOCR_IMPERSONATE_SERVICE_ACCOUNT=SA@PROJECT.iam.gserviceaccount.com; you "
        "need roles/iam.serviceAccountTokenCreator on it), or pass a token: "
        "LIGHTONOCR_TOKEN=$(gcloud auth print-identity-token) for your own account (it "
        "needs roles/run.invoker), or LIGHTONOCR_TOKEN=$(gcloud auth print-identity-token "
        f"--impersonate-service-account=SA --audiences={audience}); or run as a service "
        "account (GOOGLE_APPLICATION_CREDENTIALS)"
    )


class GoogleIdTokenAuth(Auth):
    """ID tokens for Cloud Run, cached until shortly before they expire, refreshed on 401."""

    kind = "google"

    def __init__(
        self,
        audience: str,
        *,
        fetcher: IdTokenFetcher | None = None,
        fallback_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audience = audience
        self._fetcher = fetcher or google_fetcher
        self._fallback = StaticToken(fallback_token, clock) if fallback_token else None
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._current()}"}

    async def _current(self) -> str:
        async with self._lock:  # one mint for many concurrent pages
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, lifetime_end = await self._mint()
                self._refresh_at = lifetime_end - REFRESH_MARGIN_S
            return self._token

    async def _mint(self) -> tuple[str, float]:
        try:
            token = await asyncio.to_thread(self._fetcher, self.audience)
        except Exception as exc:
            from google.auth import exceptions as google_exceptions

            if not isinstance(exc, google_exceptions.GoogleAuthError | AuthError | ValueError):
                raise
            if self._fallback:
                logger.info(
                    "no ID token from Application Default Credentials (%s); "
                    "using LIGHTONOCR_TOKEN instead",
                    type(exc).__name__,
                )
                token = self._fallback.get()
            else:
                raise AuthError(_cannot_mint_message(self.audience)) from None
        if not token:
            raise AuthError(_cannot_mint_message(self.audience))
        expiry = token_expiry(token)
        if expiry is None:
            expiry = self._clock() + DEFAULT_LIFETIME_S
        logger.debug("minted an ID token for %s", self.audience)
        return token, expiry

    def invalidate(self) -> bool:
        self._token = None
        self._refresh_at = 0.0
        return True

    def __repr__(self) -> str:
        cached = "cached" if self._token else "empty"
        return f"GoogleIdTokenAuth(audience={self.audience!r}, {cached})"


def make_auth(settings: ClientSettings, id_token_fetcher: IdTokenFetcher | None = None) -> Auth:
    """Pick the credential for `settings.resolved_auth()`; an injected fetcher means google."""
    kind = settings.resolved_auth()
    impersonate = settings.impersonate_service_account
    if (id_token_fetcher is not None or impersonate) and settings.auth == "auto":
        kind = "google"
    if id_token_fetcher is None and impersonate:
        id_token_fetcher = impersonating_fetcher(impersonate)
    if kind == "none":
        return Auth()
    if kind == "bearer":
        if not settings.token:
            raise AuthError("auth 'bearer' needs a token: set LIGHTONOCR_TOKEN")
        return BearerAuth(settings.token)
    if kind == "google":
        return GoogleIdTokenAuth(
            settings.audience or settings.base_url,
            fetcher=id_token_fetcher,
            fallback_token=settings.token,
        )
    raise AuthError(f"unknown auth {kind!r}: expected none, bearer or google")
