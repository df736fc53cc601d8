"""Credentials for the service: none (local), a static bearer token, or Google ID tokens.

Cloud Run with IAM-only access wants an ID token whose audience is the service URL. Only
service accounts (and the metadata server) can mint those; a developer's `gcloud auth
application-default login` user credentials cannot, so we fall back to a token handed in
through LIGHTONOCR_TOKEN and otherwise say exactly what to do.

No token ever reaches a log line, a repr or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ._config import ClientSettings
from ._exceptions import AuthError

logger = logging.getLogger(__name__)

IdTokenFetcher = Callable[[str], str]

# Refresh this long before the token's `exp`, so a request never leaves with a dying token.
REFRESH_MARGIN_S = 300.0
# When a token's expiry cannot be read, assume Google's usual one-hour lifetime.
DEFAULT_LIFETIME_S = 3600.0


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


class BearerAuth(Auth):
    """A static token (a pre-minted ID token or an API gateway key)."""

    kind = "bearer"

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthError("bearer auth needs a token: set LIGHTONOCR_TOKEN")
        self._token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


def google_fetcher(audience: str) -> str:
    """Mint an ID token with Application Default Credentials (blocking: metadata server/HTTP)."""
    import google.auth.transport.requests
    import google.oauth2.id_token

    return google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)


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
    return (
        "cannot obtain a Google ID token for the service: user credentials cannot mint ID "
        "tokens: use a service account (GOOGLE_APPLICATION_CREDENTIALS) or set "
        f"LIGHTONOCR_TOKEN=$(gcloud auth print-identity-token --audiences={audience})"
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
        self._fallback = fallback_token
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
                token = self._fallback
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
    if id_token_fetcher is not None and settings.auth == "auto":
        kind = "google"
    if kind == "none":
        return Auth()
    if kind == "bearer":
        if not settings.token:
            raise AuthError("auth 'bearer' needs a token: set LIGHTONOCR_TOKEN")
        return BearerAuth(settings.token)
    if kind == "google":
        return GoogleIdTokenAuth(
            settings.base_url, fetcher=id_token_fetcher, fallback_token=settings.token
        )
    raise AuthError(f"unknown auth {kind!r}: expected none, bearer or google")
