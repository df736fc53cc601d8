"""Who is using the console, proven rather than asserted, and what they may do.

Behind Identity-Aware Proxy every request carries `X-Goog-IAP-JWT-Assertion`, a JWT that
IAP signs with ES256. Only that assertion is trusted, and only after google-auth has checked
its signature against IAP's published keys, its audience, its expiry and its issuer. The
plain `X-Goog-Authenticated-User-Email` header is never read: anything that reaches the
container without passing IAP could set it.

Modes (`LIGHTONOCR_IDENTITY`):
- `local` (the embedded default): the person at the keyboard, `LIGHTONOCR_ACTOR` or the OS
  user, is an operator, as today;
- `iap`: the verified assertion; `LIGHTONOCR_IAP_AUDIENCE` is required (the audience IAP
  signs for: `/projects/NUMBER/locations/REGION/services/NAME` for Cloud Run with IAP on the
  service, `/projects/NUMBER/global/backendServices/ID` behind a load balancer);
- `oidc`: Streamlit's `st.login` with any OpenID Connect provider, configured by an `[auth]`
  section in `.streamlit/secrets.toml` (`redirect_uri`, `cookie_secret`, `client_id`,
  `client_secret`, `server_metadata_url`). A local console whose secrets hold that section
  uses it without being told (`oidc_configured`). Streamlit (Authlib) checks the provider's ID
  token (signature against its JWKS, issuer, audience, expiry, nonce); the console then takes
  the e-mail from `st.user` only when the provider says it is verified (`email_verified`).

Roles: `operator` may act (warm up, scale, keep warm, roll back, run jobs); `viewer` may read.
`LIGHTONOCR_OPERATORS` and `LIGHTONOCR_VIEWERS` are comma-separated e-mails or `@domain`
entries. Without `LIGHTONOCR_VIEWERS`, every verified person is a viewer (IAP already decides
who reaches the console); a person on neither list when it is set is refused.
"""

from __future__ import annotations

import enum
import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import google.auth.transport
import google.auth.transport.requests
from google.oauth2 import id_token

from console.settings import IAP_PUBLIC_KEYS_URL, ConsoleSettings

IAP_ASSERTION_HEADER = "X-Goog-IAP-JWT-Assertion"
IAP_ISSUER = "https://cloud.google.com/iap"
# IAP's own clock and ours may differ a little; Google's samples allow none, we allow 30 s.
_CLOCK_SKEW_S = 30


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"


class IdentityError(Exception):
    """The request's identity could not be verified. The message never holds the token."""


class PermissionDenied(Exception):
    """A verified person asked for something their role does not allow."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A person: `name` is their verified e-mail (or the OS user locally)."""

    name: str
    role: Role
    source: str  # "local", "iap" or "oidc"
    # When the proof of who this is stops holding (an IAP assertion's `exp`, epoch seconds):
    # a browser session outlives the assertion its websocket was opened with.
    expires_at: float | None = None

    @property
    def can_operate(self) -> bool:
        return self.role is Role.OPERATOR

    def expired(self, now: float) -> bool:
        """True once the proof is older than its expiry, with the verification's clock skew."""
        return self.expires_at is not None and now > self.expires_at + _CLOCK_SKEW_S

    def require_current(self, action: str, now: float) -> None:
        """Refuse an action for a person whose proof has expired since it was verified."""
        if self.expired(now):
            raise PermissionDenied(
                f"the sign-in of {self.name} has expired: reload the page to sign in again "
                f"before {action}"
            )

    def require_operator(self, action: str) -> None:
        """Refuse server-side what the UI hides: a crafted rerun gets no further than this."""
        if not self.can_operate:
            raise PermissionDenied(
                f"{self.name} is a viewer: {action} needs the operator role "
                "(ask an admin to add you to LIGHTONOCR_OPERATORS)"
            )


def _listed(email: str, entries: tuple[str, ...]) -> bool:
    email = email.lower()
    domain = "@" + email.rpartition("@")[2]
    return any(entry in (email, domain) for entry in entries)


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    mode: str = "local"
    iap_audience: str | None = None
    iap_keys_url: str = IAP_PUBLIC_KEYS_URL
    operators: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    local_actor: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("local", "iap", "oidc"):
            raise ValueError(f"LIGHTONOCR_IDENTITY must be local, iap or oidc, not {self.mode!r}")
        if self.mode == "iap" and not self.iap_audience:
            raise ValueError(
                "LIGHTONOCR_IDENTITY=iap needs LIGHTONOCR_IAP_AUDIENCE (the audience IAP signs "
                "for, e.g. /projects/NUMBER/locations/REGION/services/NAME)"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IdentitySettings:
        settings = ConsoleSettings.from_env(env)
        return cls(
            mode=settings.identity,
            iap_audience=settings.iap_audience,
            iap_keys_url=settings.iap_keys_url,
            operators=settings.operators,
            viewers=settings.viewers,
            local_actor=settings.actor,
        )

    def role_for(self, email: str) -> Role:
        if _listed(email, self.operators):
            return Role.OPERATOR
        if not self.viewers or _listed(email, self.viewers):
            return Role.VIEWER
        raise IdentityError(f"{email} is not on the console's list of viewers or operators")


@dataclass(frozen=True, slots=True)
class IapAssertion:
    """What a verified IAP assertion says: who, and until when (epoch seconds)."""

    email: str
    expires_at: float


def verify_iap_assertion(
    assertion: str,
    *,
    audience: str,
    keys_url: str = IAP_PUBLIC_KEYS_URL,
    request: google.auth.transport.Request | None = None,
) -> IapAssertion:
    """The verified e-mail and expiry of an IAP assertion; IdentityError for anything less
    than valid (a claim of the wrong type included: google-auth compares `exp` and `iat` as
    numbers and raises TypeError for a string)."""
    request = request or google.auth.transport.requests.Request()
    try:
        claims = id_token.verify_token(
            assertion,
            request,
            audience=audience,
            certs_url=keys_url,
            clock_skew_in_seconds=_CLOCK_SKEW_S,
        )
    except google.auth.exceptions.TransportError as exc:
        raise IdentityError(f"IAP's public keys could not be fetched from {keys_url}") from exc
    except (ValueError, TypeError, google.auth.exceptions.GoogleAuthError) as exc:
        raise IdentityError(f"the IAP assertion is not valid: {_reason(exc)}") from exc
    if claims.get("iss") != IAP_ISSUER:
        raise IdentityError("the IAP assertion is not valid: it was not issued by IAP")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise IdentityError("the IAP assertion is not valid: it names no e-mail")
    expires_at = claims.get("exp")
    if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
        raise IdentityError("the IAP assertion is not valid: its expiry is not a time")
    return IapAssertion(email, float(expires_at))


def _reason(exc: BaseException) -> str:
    """google-auth's message without the token (some messages quote the claims)."""
    text = str(exc)
    for known in ("expired", "Token used too early", "audience", "signature", "Could not verify"):
        if known.lower() in text.lower():
            return {
                "expired": "it has expired",
                "Token used too early": "it is not valid yet",
                "audience": "it was signed for another audience",
                "signature": "its signature does not match IAP's keys",
                "Could not verify": "its signature does not match IAP's keys",
            }[known]
    return "it cannot be decoded"


def resolve_identity(
    settings: IdentitySettings,
    headers: Mapping[str, str],
    *,
    oidc_user: Mapping[str, Any] | None = None,
    verify: Callable[..., IapAssertion] = verify_iap_assertion,
) -> Identity:
    """The request's person and role, or IdentityError ("not signed in")."""
    if settings.mode == "local":
        return Identity(settings.local_actor or os_user(), Role.OPERATOR, "local")
    if settings.mode == "iap":
        assertion = _header(headers, IAP_ASSERTION_HEADER)
        if not assertion:
            raise IdentityError("the request carries no IAP assertion: sign in through IAP")
        verified = verify(
            assertion,
            audience=settings.iap_audience,
            keys_url=settings.iap_keys_url,
        )
        role = settings.role_for(verified.email)
        return Identity(verified.email, role, "iap", expires_at=verified.expires_at)
    if not oidc_user or not oidc_user.get("is_logged_in"):
        raise IdentityError("not signed in")
    email = oidc_user.get("email")
    # Strict: a provider that does not say the address is verified (some leave the claim
    # out) could be naming an address anyone typed in at sign-up.
    if (
        not isinstance(email, str)
        or "@" not in email
        or oidc_user.get("email_verified") is not True
    ):
        raise IdentityError("the identity provider gave no verified e-mail")
    return Identity(email, settings.role_for(email), "oidc")


_OIDC_SHARED = ("redirect_uri", "cookie_secret")
_OIDC_PROVIDER = ("client_id", "client_secret", "server_metadata_url")


def oidc_configured(auth: Mapping[str, Any] | None) -> bool:
    """Whether `[auth]` in Streamlit's secrets is enough for `st.login()` (the default
    provider: its settings in `[auth]` itself or in one `[auth.NAME]` section)."""
    if not auth or not all(auth.get(key) for key in _OIDC_SHARED):
        return False
    if all(auth.get(key) for key in _OIDC_PROVIDER):
        return True
    sections = [v for v in auth.values() if isinstance(v, Mapping)]
    return len(sections) == 1 and all(sections[0].get(key) for key in _OIDC_PROVIDER)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "unknown"


def local_actor(env: Mapping[str, str] | None = None) -> str:
    """The person at the keyboard, for the local console and the CLIs: `LIGHTONOCR_ACTOR`,
    else the operating-system user."""
    return ConsoleSettings.from_env(env).actor or os_user()


__all__ = [
    "IAP_ASSERTION_HEADER",
    "IapAssertion",
    "Identity",
    "IdentityError",
    "IdentitySettings",
    "PermissionDenied",
    "Role",
    "local_actor",
    "oidc_configured",
    "os_user",
    "resolve_identity",
    "verify_iap_assertion",
]
