"""IAP's signing side for the tests: an ES256 key, assertions signed with it, and its public
key served on loopback in IAP's format (`{"key id": "PEM public key"}`), so google-auth fetches
and checks them exactly as it does IAP's own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import crypt, jwt

from console._identity import IAP_ISSUER

AUDIENCE = "/projects/123456/locations/us-central1/services/lightonocr-console"
KEY_ID = "iap-key-1"


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _signer(key: ec.EllipticCurvePrivateKey, key_id: str) -> crypt.Signer:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return crypt.ES256Signer.from_string(pem, key_id=key_id)


class IapKeys:
    """IAP's key pair; `url` is set while `serve_iap_keys` serves the public half."""

    def __init__(self, **default_claims: object) -> None:
        self.default_claims = default_claims
        self.iap_key = ec.generate_private_key(ec.SECP256R1())
        self.body = json.dumps({KEY_ID: _pem(self.iap_key)}).encode()
        self.requests = 0
        self.url = ""

    def assertion(
        self,
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        *,
        audience: str = AUDIENCE,
        **claims_: object,
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": IAP_ISSUER,
            "aud": audience,
            "sub": "accounts.google.com:1234",
            "email": "ana@bank.example",
            "iat": now,
            "exp": now + 600,
        }
        claims.update(self.default_claims)
        claims.update(claims_)
        return jwt.encode(_signer(signing_key or self.iap_key, KEY_ID), claims).decode()


@contextmanager
def serve_iap_keys(**default_claims: object) -> Iterator[IapKeys]:
    """`default_claims` go into every assertion (a test's marker, say)."""
    keys = IapKeys(**default_claims)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(keys.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keys.url = f"http://127.0.0.1:{server.server_address[1]}/iap/verify/public_key"
    try:
        yield keys
    finally:
        server.shutdown()
        server.server_close()
