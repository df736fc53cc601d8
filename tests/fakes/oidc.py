"""A tiny OpenID Connect provider on loopback, enough for Streamlit's `st.login` (Authlib).

It serves discovery, an authorization endpoint that signs the test's chosen person in at
once (no login form: the browser is sent straight back with a code), a token endpoint that
checks the client's secret and the code and answers with an RS256 ID token carrying the
nonce, and the JWKS to verify it. The relying party does every check itself, as it would
against Google or Okta.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

CLIENT_ID = "lightonocr-console"
CLIENT_SECRET = "oidc-client-secret-for-tests"
KEY_ID = "oidc-key-1"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class OidcProvider:
    """State of the provider: who signs in next, the codes it gave, what it was asked."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._signer = crypt.RSASigner.from_string(pem, key_id=KEY_ID)
        self.person: dict[str, Any] = {"email": "ana@bank.example", "email_verified": True}
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests = 0
        self.issuer = ""

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID}
        return {"keys": [{**key, "n": _b64(numbers.n), "e": _b64(numbers.e)}]}

    def authorize(self, query: dict[str, str]) -> str:
        """Where the browser goes next: back to the client with a one-time code."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": query.get("nonce"), "person": dict(self.person)}
        back = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any] | None:
        self.token_requests += 1
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        grant = self.codes.pop(form.get("code", ""), None)
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET) or grant is None:
            return None
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-" + grant["person"]["email"],
            "iat": now,
            "exp": now + 600,
            "nonce": grant["nonce"],
            **grant["person"],
        }
        id_token = jwt.encode(self._signer, claims).decode()
        return {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }


@contextmanager
def running_oidc_provider() -> Iterator[OidcProvider]:
    provider = OidcProvider()

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.metadata())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            answer = provider.token(form, self.headers.get("Authorization"))
            if answer is None:
                self._json(400, {"error": "invalid_grant"})
            else:
                self._json(200, answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
