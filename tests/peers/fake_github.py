"""GitHub's OAuth and REST endpoints, as GitHub documents them, on a loopback port.

GitHub is outside this machine, so the tests talk to this stand-in:
``/login/oauth/authorize`` (consent is automatic), ``/login/oauth/access_token``
(client id and secret in the form, JSON only with ``Accept: application/json``,
errors answered with 200 and an ``error`` member as GitHub does; PKCE S256
checked), and under ``/api``: ``GET /user`` and ``GET /user/emails``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.peers._loopback import LoopbackServer, read_form, redirect, send_json
from tests.peers.fake_oidc import b64

CLIENT_ID = "Iv1.fakegithubclient"
CLIENT_SECRET = "github-secret-" + "y" * 20


def new_github_user(**changes: Any) -> dict[str, Any]:
    login = "octo-" + secrets.token_hex(4)
    return {"id": secrets.randbelow(10**9) + 1, "login": login, "name": "Octo Cat",
            "emails": [{"email": f"{login}@users.example", "primary": True, "verified": True,
                        "visibility": "private"},
                       {"email": f"{login}-old@users.example", "primary": False,
                        "verified": True, "visibility": None}], **changes}


@dataclass
class FakeGitHub(LoopbackServer):
    user: dict[str, Any] = field(default_factory=new_github_user)

    def __post_init__(self) -> None:
        self._codes: dict[str, tuple[dict[str, Any], str | None]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.start_server()
        self.api_url = f"{self.url}/api"

    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_server()

    def handle_get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/login/oauth/authorize":
            code = secrets.token_hex(10)
            with self._lock:
                self._codes[code] = (dict(self.user), query.get("code_challenge"))
            back = urlencode({"code": code, "state": query.get("state", "")})
            redirect(handler, f"{query.get('redirect_uri')}?{back}")
            return
        token = handler.headers.get("Authorization", "")
        with self._lock:
            user = self._tokens.get(token.removeprefix("Bearer ")) if token.startswith("Bearer ") else None
        if user is None:
            send_json(handler, 401, {"message": "Bad credentials"})
        elif url.path == "/api/user":
            send_json(handler, 200, {k: v for k, v in user.items() if k != "emails"})
        elif url.path == "/api/user/emails":
            send_json(handler, 200, user["emails"])
        else:
            send_json(handler, 404, {"message": "Not Found"})

    def handle_post(self, handler: BaseHTTPRequestHandler) -> None:
        if urlsplit(handler.path).path != "/login/oauth/access_token":
            send_json(handler, 404, {"message": "Not Found"})
            return
        form = dict(parse_qsl(read_form(handler).decode()))
        with self._lock:
            found = self._codes.pop(form.get("code", ""), None)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            answer: dict[str, Any] = {"error": "incorrect_client_credentials"}
        elif found is None:
            answer = {"error": "bad_verification_code"}
        elif found[1] is not None and found[1] != b64(
                hashlib.sha256(form.get("code_verifier", "").encode()).digest()):
            answer = {"error": "bad_verification_code", "error_description": "PKCE"}
        else:
            access_token = "gho_" + secrets.token_hex(16)
            with self._lock:
                self._tokens[access_token] = found[0]
            answer = {"access_token": access_token, "token_type": "bearer",
                      "scope": "read:user,user:email"}
        if "application/json" in handler.headers.get("Accept", ""):
            send_json(handler, 200, answer)
        else:
            data = urlencode(answer).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/x-www-form-urlencoded")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

