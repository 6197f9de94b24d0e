"""A small, controllable issuer on loopback (discovery, JWKS, revocation feed) for cache tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from authd.verify.testing import LocalIssuer


class FakeIssuer:
    """Serves what an authd instance serves, and counts and fails on demand."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.signer = LocalIssuer(issuer=self.url)
        self.keys = [self.signer.key]
        self.revoked: list[dict[str, Any]] = []
        self.up = True
        self.discovery_up = True
        self.jwks_max_age = 300
        self.jwks_fetches = 0
        self.feed_polls = 0
        self.delay = 0.0
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path)
                discovery = path.path == "/.well-known/openid-configuration"
                if not fake.up or (discovery and not fake.discovery_up):
                    self._send(503, {"error": "down"})
                elif discovery:
                    self._send(200, {"issuer": fake.url, "jwks_uri": f"{fake.url}/jwks",
                                     "authd_revocations_endpoint": f"{fake.url}/revocations"})
                elif path.path == "/jwks":
                    fake.jwks_fetches += 1
                    if fake.delay:
                        threading.Event().wait(fake.delay)
                    self._send(200, {"keys": [k.public_jwk() for k in fake.keys]},
                               {"Cache-Control": f"public, max-age={fake.jwks_max_age}"})
                elif path.path == "/revocations":
                    fake.feed_polls += 1
                    since = int(parse_qs(path.query).get("since", ["0"])[0])
                    self._send(200, {"revoked": fake.revoked[since:],
                                     "cursor": str(len(fake.revoked)), "poll_after": 1})
                else:
                    self._send(404, {})

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = orjson.dumps(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def mint(self, **claims: Any) -> str:
        claims.setdefault("audience", "my-api")
        return self.signer.mint(**claims)

    def start(self) -> FakeIssuer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer().start()
    yield fake
    fake.stop()
