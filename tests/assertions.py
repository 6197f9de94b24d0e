"""Client assertions for tests: honest ones signed with a client's key, and the forgeries an
attacker would try (alg none, HS256 keyed with the public key, tampered segments)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from examples.machine_client.client import public_jwk

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(client_id: str, audience: str, now: float, **extra: Any) -> dict[str, Any]:
    """The claims of an honest assertion, with ``extra`` overriding any of them."""
    return {"iss": client_id, "sub": client_id, "aud": audience, "iat": int(now),
            "exp": int(now) + 60, "jti": f"jti-{now}-{sorted(extra.items())}", **extra}


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def alg_none(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any]) -> str:
    """An assertion claiming no signature is needed."""
    return unsigned({"alg": "none", "kid": public_jwk(key)["kid"]}, claims)


def hs256_with_public_key(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any]) -> str:
    """Algorithm confusion: an HMAC keyed with the client's public key (which anyone may have)."""
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "kid": public_jwk(key)["kid"]}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return signing_input + "." + b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())


def signed(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any],
           header: dict[str, Any] | None = None) -> str:
    """An assertion with exactly these claims (and header), properly signed by ``key``."""
    head = header or {"alg": "ES256", "kid": public_jwk(key)["kid"], "typ": "JWT"}
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def tamper_payload(token: str, **changes: Any) -> str:
    """The same signature over a payload with ``changes`` (e.g. another sub)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64(json.dumps({**claims, **changes}).encode())}.{signature}"


def tamper_signature(token: str) -> str:
    """One bit of the signature flipped."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[5] ^= 1
    return f"{header}.{payload}.{b64(bytes(raw))}"


class JwksServer:
    """A client's own web server publishing its public keys; counts the fetches it answers."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.status = 200  # a test sets 503 to play an outage
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=300")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
