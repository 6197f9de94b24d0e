"""A misbehaving OpenID Provider on a loopback port, for the attack tests.

The real provider (``oidc_provider.py``, npm ``oidc-provider``) cannot be made
to sign a forged ID token; this one can. It implements discovery, the
authorization endpoint (consent is automatic), the token endpoint (client
authentication, code, redirect_uri and PKCE S256 checked as a provider
would), userinfo and its JWKS, and lets a test change one thing in what it
answers: ``tamper_id_token`` rewrites the ID token's header and claims and
chooses how it is signed, ``userinfo_sub`` changes userinfo's subject, and
``iss_param`` changes the RFC 9207 ``iss`` it appends to the redirect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

from authd import jose
from authd.jose._b64 import b64url_encode
from tests.peers._loopback import LoopbackServer, read_form, redirect, send_json

CLIENT_ID = "authd-at-fake"
CLIENT_SECRET = "fake-secret-" + "x" * 20


def b64(data: bytes) -> str:
    return b64url_encode(data)


def sign_compact(header: dict[str, Any], claims: dict[str, Any], key: jose.Key | None,
                 raw_secret: bytes | None = None) -> str:
    """Any JWS the test asks for, including ones authd's own encoder would refuse to make."""
    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims))}".encode()
    if raw_secret is not None:
        signature = hmac.new(raw_secret, signing_input, hashlib.sha256).digest()
    elif key is not None:
        signature = key.sign(signing_input)
    else:
        signature = b""
    return f"{signing_input.decode()}.{b64(signature)}"


def new_user(**changes: Any) -> dict[str, Any]:
    return {"sub": "fake-" + secrets.token_hex(6), "email": f"{secrets.token_hex(6)}@fake.example",
            "email_verified": True, "name": "Fake User", **changes}


Tamper = Callable[[dict[str, Any], dict[str, Any], "FakeOIDCProvider"], str | None]


@dataclass
class _Grant:
    user: dict[str, Any]
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    used: bool = False


@dataclass
class FakeOIDCProvider(LoopbackServer):
    user: dict[str, Any] = field(default_factory=lambda: new_user())
    tamper_id_token: Tamper | None = None
    userinfo_sub: str | None = None
    iss_param: str | None = None  # None: the issuer itself
    key: jose.Key = field(default_factory=lambda: jose.generate_key("ES256"))
    token_requests: int = 0
    jwks_requests: int = 0

    def __post_init__(self) -> None:
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.start_server()
        self.issuer = self.url

    def __enter__(self) -> FakeOIDCProvider:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_server()

    def reset(self) -> None:
        self.tamper_id_token = None
        self.userinfo_sub = None
        self.iss_param = None
        self.user = new_user()

    # -- endpoints --------------------------------------------------------------

    def handle_get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            send_json(handler, 200, {
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks", "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "authorization_response_iss_parameter_supported": True,
                "id_token_signing_alg_values_supported": ["ES256"]})
        elif url.path == "/jwks":
            self.jwks_requests += 1
            send_json(handler, 200, {"keys": [self.key.public_jwk()]})
        elif url.path == "/authorize":
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._grants[code] = _Grant(dict(self.user), query.get("client_id", ""),
                                            query.get("redirect_uri", ""), query.get("nonce"),
                                            query.get("code_challenge"))
            back = {"code": code, "state": query.get("state", ""),
                    "iss": self.iss_param if self.iss_param is not None else self.issuer}
            redirect(handler, f"{query.get('redirect_uri')}?{urlencode(back)}")
        elif url.path == "/userinfo":
            token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
            grant = self._by_access_token(token)
            if grant is None:
                send_json(handler, 401, {"error": "invalid_token"})
                return
            send_json(handler, 200, {**grant.user, "sub": self.userinfo_sub or grant.user["sub"]})
        else:
            send_json(handler, 404, {"error": "not_found"})

    def handle_post(self, handler: BaseHTTPRequestHandler) -> None:
        if urlsplit(handler.path).path != "/token":
            send_json(handler, 404, {"error": "not_found"})
            return
        self.token_requests += 1
        form = dict(parse_qsl(read_form(handler).decode()))
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            send_json(handler, 401, {"error": "invalid_client"})
            return
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            reuse = grant is not None and grant.used
            if grant is not None:
                grant.used = True
        if grant is None or reuse or grant.redirect_uri != form.get("redirect_uri"):
            send_json(handler, 400, {"error": "invalid_grant"})
            return
        verifier = form.get("code_verifier", "")
        if grant.challenge != b64(hashlib.sha256(verifier.encode()).digest()):
            send_json(handler, 400, {"error": "invalid_grant", "error_description": "PKCE"})
            return
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._grants["at:" + access_token] = grant
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": grant.user["sub"], "aud": CLIENT_ID,
                                  "iat": now, "exp": now + 300}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        header: dict[str, Any] = {"alg": "ES256", "kid": self.key.kid, "typ": "JWT"}
        id_token = self.tamper_id_token(header, claims, self) if self.tamper_id_token else None
        if id_token is None:
            id_token = sign_compact(header, claims, self.key)
        send_json(handler, 200, {"access_token": access_token, "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})

    def _by_access_token(self, token: str) -> _Grant | None:
        with self._lock:
            return self._grants.get("at:" + token)

