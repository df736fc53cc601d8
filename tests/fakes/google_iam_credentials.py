"""A loopback fake of IAM Credentials `generateIdToken`, reached by google-auth's own code.

google-auth's `impersonated_credentials.IDTokenCredentials.refresh` posts to the fixed URL
https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/SA:generateIdToken
through a `requests` session, and offers no endpoint override. `requests` does honour
HTTPS_PROXY and REQUESTS_CA_BUNDLE, so this fake is an HTTP CONNECT proxy on 127.0.0.1 that
terminates the TLS itself, with a certificate for iamcredentials.googleapis.com from a
throwaway CA (trustme). Nothing leaves the machine: every CONNECT is answered here, and a
CONNECT to any other host is refused.

    with FakeIamCredentials() as iam:
        monkeypatch.setenv("HTTPS_PROXY", iam.proxy_url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", iam.ca_bundle)
"""

from __future__ import annotations

import json
import socketserver
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import trustme

HOST = "iamcredentials.googleapis.com"


@dataclass(frozen=True, slots=True)
class IdTokenRequest:
    """One generateIdToken call as the fake received it."""

    path: str
    authorization: str
    body: dict[str, Any]


@dataclass
class FakeIamCredentials:
    """Answers generateIdToken with `mint(service_account, audience)`; records every call."""

    mint: Any = None  # (service_account, audience) -> token; set by the test
    status: int = 200  # answer with this status instead (403: no TokenCreator role)
    requests: list[IdTokenRequest] = field(default_factory=list)
    refused_hosts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ca = trustme.CA()
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(HOST).configure_cert(self._tls)
        self._dir = tempfile.TemporaryDirectory()
        self.ca_bundle = str(Path(self._dir.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_bundle)
        self._server: socketserver.ThreadingTCPServer | None = None

    @property
    def proxy_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeIamCredentials:
        fake = self

        class Proxy(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake._connect(self)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._dir.cleanup()

    def __enter__(self) -> FakeIamCredentials:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- the proxy and the API behind it ----------------------------------------------------

    def _connect(self, handler: socketserver.StreamRequestHandler) -> None:
        request_line = handler.rfile.readline().decode("latin-1").split()
        while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the CONNECT request's headers
        if len(request_line) < 2 or request_line[0] != "CONNECT":
            handler.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        if request_line[1] != f"{HOST}:443":
            self.refused_hosts.append(request_line[1])
            handler.wfile.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            return
        handler.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        handler.wfile.flush()
        with self._tls.wrap_socket(handler.connection, server_side=True) as tls:
            _Api(tls, ("127.0.0.1", 0), self)

    def _answer(self, api: _Api) -> None:
        length = int(api.headers.get("Content-Length", "0"))
        body = json.loads(api.rfile.read(length) or b"{}")
        self.requests.append(IdTokenRequest(api.path, api.headers.get("Authorization", ""), body))
        account = api.path.rsplit("/serviceAccounts/", 1)[-1].removesuffix(":generateIdToken")
        if api.command != "POST" or not api.path.endswith(":generateIdToken"):
            status, answer = 404, {"error": {"code": 404, "message": "not found"}}
        elif self.status != 200:
            message = f"Permission 'iam.serviceAccounts.getOpenIdToken' denied on {account}"
            status, answer = self.status, {"error": {"code": self.status, "message": message}}
        else:
            status, answer = 200, {"token": self.mint(account, body.get("audience"))}
        data = json.dumps(answer).encode()
        api.send_response(status)
        api.send_header("Content-Type", "application/json")
        api.send_header("Content-Length", str(len(data)))
        api.send_header("Connection", "close")
        api.end_headers()
        api.wfile.write(data)


class _Api(BaseHTTPRequestHandler):
    """One HTTP exchange over the proxied TLS connection."""

    def __init__(self, connection: Any, address: Any, fake: FakeIamCredentials) -> None:
        self._fake = fake
        super().__init__(connection, address, None)  # type: ignore[arg-type]

    def do_POST(self) -> None:
        self._fake._answer(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass
