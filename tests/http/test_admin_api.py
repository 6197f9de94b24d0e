"""The admin API (/admin/v1) and the user's own data (/v1/me/export, DELETE /v1/me).

In-process app with an injected clock (no sleeps), over SQLite and over
PostgreSQL + Redis (sessions in Redis). What operators and users rely on:
only a token carrying ``authd:admin`` (a configured client's own token) gets
in; a user's login never becomes an admin; cursors cannot be forged or moved
to another query; disabling and deleting end everything the user held; a
deleted account leaves only a pseudonym in the audit trail.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.clients import hash_secret
from authd.http.app import create_app
from tests.conftest import backend_settings

PASSWORD = "correct horse battery staple 42"
OPS, OPS_SECRET = "ops-console", secrets.token_urlsafe(32)
ROBOT, ROBOT_SECRET = "billing-robot", secrets.token_urlsafe(32)
ELSEWHERE, ELSEWHERE_SECRET = "ops-elsewhere", secrets.token_urlsafe(32)
OTHER_API = "https://reports.example.com"
ISSUER = "http://localhost:8000"
TTL = 300
MAX_AGE = 600


class Env:
    """The app, its clock and its data folder."""

    def __init__(self, client: TestClient, clock: FixedClock, data_dir: Path) -> None:
        self.http = client
        self.clock = clock
        self.data_dir = data_dir


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Env]:
    """One app per backend (SQLite; PostgreSQL + Redis), with an admin client and a client
    without the admin scope, on a clock the tests move forward."""
    tmp = tmp_path_factory.mktemp(f"admin-{request.param}")
    with backend_settings(request.param) as extra:
        settings = Settings(
            data_dir=tmp, issuer=ISSUER, access_token_ttl=TTL, sensitive_max_age=MAX_AGE,
            rate_limits={"signups_per_ip": 100000, "ip_failures": 100000},
            clients={OPS: {"secret_hash": hash_secret(OPS_SECRET), "scopes": ["authd:admin"]},
                     ROBOT: {"secret_hash": hash_secret(ROBOT_SECRET), "scopes": ["invoices:read"]},
                     ELSEWHERE: {"secret_hash": hash_secret(ELSEWHERE_SECRET),
                                 "scopes": ["authd:admin", "reports:read"],
                                 "audiences": [OTHER_API, ISSUER]}},
            **extra)
        clock = FixedClock(time.time())
        with TestClient(create_app(settings, clock=clock)) as client:
            yield Env(client, clock, tmp)


def machine_token(env: Env, client_id: str = OPS, secret: str = OPS_SECRET) -> str:
    """A client's own token (client_credentials)."""
    response = env.http.post("/v1/token", data={"grant_type": "client_credentials"},
                             auth=(client_id, secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def admin(env: Env) -> dict[str, str]:
    """Headers of an admin call."""
    return {"Authorization": f"Bearer {machine_token(env)}"}


def new_user(env: Env, name: str = "Ada", email: str | None = None) -> dict[str, Any]:
    """A signed-up user, as the admin API shows it."""
    email = email or f"user-{secrets.token_hex(6)}@example.com"
    response = env.http.post("/v1/users", json={"email": email, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.text
    user = env.http.get(f"/admin/v1/users/{response.json()['id']}", headers=admin(env))
    assert user.status_code == 200, user.text
    body: dict[str, Any] = user.json()
    return body


def password_login(env: Env, email: str) -> dict[str, Any]:
    """A user's token pair from the password grant."""
    response = env.http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def cookie_login(env: Env, email: str) -> tuple[str, str]:
    """A cookie session: (cookie value, CSRF token); the client's jar is left empty."""
    response = env.http.post("/v1/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["authd_session"]
    env.http.cookies.clear()
    return cookie, response.json()["csrf_token"]


def bearer(token: str) -> dict[str, str]:
    """Headers presenting ``token``."""
    return {"Authorization": f"Bearer {token}"}


def cookie_headers(cookie: str, csrf: str | None = None) -> dict[str, str]:
    """Headers presenting a cookie session (and its CSRF token, for unsafe methods)."""
    headers = {"Cookie": f"authd_session={cookie}"}
    if csrf:
        headers["X-CSRF-Token"] = csrf
    return headers


def events(env: Env, **filters: str) -> list[dict[str, Any]]:
    """The newest audit events matching ``filters``, through the admin API."""
    response = env.http.get("/admin/v1/audit", params={"limit": "100", **filters},
                            headers=admin(env))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


def reset_mailed(outbox: Path, address: str) -> bool:
    """Whether a password reset message to ``address`` was written as an .eml file."""
    return any(address in text and "Subject: Reset your authd password" in text
               for text in (p.read_text(errors="replace") for p in outbox.glob("*.eml")))


# -- who may call the admin API -------------------------------------------------------------------


def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(env: Env) -> None:
    """Without a valid token every admin endpoint answers 401 invalid_token and its challenge."""
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic b3BzOng="}):
        response = env.http.get("/admin/v1/users", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer ")


def test_a_users_token_or_cookie_is_never_an_admin(env: Env) -> None:
    """A signed-in user's token is 403 insufficient_scope naming the scope; a cookie is no
    admin credential at all (401)."""
    user = new_user(env)
    token = password_login(env, user["email"])["access_token"]
    response = env.http.get("/admin/v1/users", headers=bearer(token))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="authd:admin"' in challenge
    cookie, _ = cookie_login(env, user["email"])
    assert env.http.get("/admin/v1/users", headers=cookie_headers(cookie)).status_code == 401


def test_a_clients_token_without_the_scope_is_403(env: Env) -> None:
    """A machine that was not given authd:admin cannot administer, nor ask for the scope."""
    token = machine_token(env, ROBOT, ROBOT_SECRET)
    response = env.http.post("/admin/v1/keys/rotate", headers=bearer(token))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    asked = env.http.post("/v1/token", data={"grant_type": "client_credentials",
                                             "scope": "authd:admin"}, auth=(ROBOT, ROBOT_SECRET))
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"


def test_an_admin_token_minted_for_another_api_is_401(env: Env) -> None:
    """A client's token for another API leaks with that API: even carrying authd:admin it is
    refused (401 invalid_token); the same client's token for authd itself is accepted."""
    for audience, status in ((OTHER_API, 401), (ISSUER, 200)):
        token = env.http.post("/v1/token", auth=(ELSEWHERE, ELSEWHERE_SECRET), data={
            "grant_type": "client_credentials", "audience": audience}).json()["access_token"]
        response = env.http.get("/admin/v1/keys", headers=bearer(token))
        assert response.status_code == status, (audience, response.text)


def test_user_grants_never_carry_the_admin_scope(env: Env) -> None:
    """The password grant cannot get authd:admin, through the public client or even through the
    admin client itself: a user's login never makes the user an admin."""
    user = new_user(env)
    for auth in (None, (OPS, OPS_SECRET)):
        response = env.http.post("/v1/token", auth=auth, data={
            "grant_type": "password", "username": user["email"], "password": PASSWORD,
            "scope": "openid authd:admin"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    default = env.http.post("/v1/token", auth=(OPS, OPS_SECRET), data={
        "grant_type": "password", "username": user["email"], "password": PASSWORD})
    assert default.status_code == 200 and "authd:admin" not in default.json()["scope"]
    forbidden = env.http.get("/admin/v1/users", headers=bearer(default.json()["access_token"]))
    assert forbidden.status_code == 403


def test_an_expired_admin_token_is_401(env: Env) -> None:
    """An admin token stops working when it expires."""
    headers = admin(env)
    assert env.http.get("/admin/v1/keys", headers=headers).status_code == 200
    env.clock.advance(TTL + 1)
    response = env.http.get("/admin/v1/keys", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_a_revoked_admin_token_is_401(env: Env) -> None:
    """A leaked admin token is revoked like any access token (RFC 7009) and refused at once."""
    token = machine_token(env)
    assert env.http.get("/admin/v1/keys", headers=bearer(token)).status_code == 200
    revoked = env.http.post("/v1/revoke", data={"token": token, "token_type_hint": "access_token"},
                            auth=(OPS, OPS_SECRET))
    assert revoked.status_code == 200
    response = env.http.get("/admin/v1/keys", headers=bearer(token))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


# -- search and cursors ---------------------------------------------------------------------------


def _all_pages(env: Env, query: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"query": query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = env.http.get("/admin/v1/users", params=params, headers=admin(env))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        pages.append([u["email"] for u in body["users"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_search_by_email_prefix_or_name_pages_through_every_match_once(env: Env) -> None:
    """Email prefix and name prefix, case-insensitive; keyset pages neither skip nor repeat."""
    tag = secrets.token_hex(4)
    emails = []
    for i in range(7):
        emails.append(new_user(env, email=f"srch-{tag}-{i}@example.com")["email"])
        env.clock.advance(0.5)  # distinct created_at: the order is then the creation order
    named = new_user(env, name=f"Zelda{tag} Quux")["email"]
    pages = _all_pages(env, f"SRCH-{tag}", 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [e for p in pages for e in p] == emails  # oldest first, stable
    assert _all_pages(env, f"zelda{tag}", 50) == [[named]]
    assert _all_pages(env, f"nobody-{tag}", 50) == [[]]
    for wildcard in ("%", "_", "\\"):  # LIKE's own characters match only themselves
        assert _all_pages(env, wildcard, 50) == [[]], wildcard
    long = env.http.get("/admin/v1/users", params={"query": "a" * 300}, headers=admin(env))
    assert long.status_code == 400


def test_bad_limits_are_400(env: Env) -> None:
    """limit is 1 to 100."""
    for limit in ("0", "101", "x", "-1"):
        response = env.http.get("/admin/v1/users", params={"limit": limit}, headers=admin(env))
        assert response.status_code == 400, limit


def _first_cursor(env: Env, query: str) -> str:
    response = env.http.get("/admin/v1/users", params={"query": query, "limit": "1"},
                            headers=admin(env))
    cursor: str = response.json()["next_cursor"]
    assert cursor
    return cursor


def _flip(text: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[index % len(raw)] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_tampered_or_foreign_cursors_are_400_never_another_page(env: Env) -> None:
    """Garbage, a flipped bit in the position or the tag, and a cursor from another query are
    all 400 invalid_request: no page of data, never a 500."""
    tag = secrets.token_hex(4)
    for i in range(3):
        new_user(env, email=f"cur-{tag}-{i}@example.com")
        new_user(env, email=f"other-{tag}-{i}@example.com")
    cursor = _first_cursor(env, f"cur-{tag}")
    body, mac = cursor.split(".")
    bad = ["garbage", "", ".", "a.b.c", "é.é", "x" * 600, f"{_flip(body, 0)}.{mac}",
           f"{_flip(body, 5)}.{mac}", f"{body}.{_flip(mac, 3)}", f"{body}=.{mac}",
           f"{body}.{mac}A", _first_cursor(env, f"other-{tag}"),
           f"{base64.urlsafe_b64encode(bytes([0xFF, 0xFE])).rstrip(b'=').decode()}.{mac}"]
    for forged in bad:
        response = env.http.get("/admin/v1/users", params={"query": f"cur-{tag}",
                                                           "cursor": forged}, headers=admin(env))
        if forged == "":
            assert response.status_code == 200  # no cursor: the first page
            continue
        assert response.status_code == 400, (forged, response.text)
        assert response.json()["error"] == "invalid_request"
    moved = env.http.get("/admin/v1/users", params={"query": f"other-{tag}", "cursor": cursor},
                         headers=admin(env))
    assert moved.status_code == 400


# -- one user ------------------------------------------------------------------------------------


def test_create_get_and_unknown_ids(env: Env) -> None:
    """POST creates with sign-up's rules (409 for a taken address, 400 for a weak password);
    unknown ids are 404 everywhere."""
    email = f"made-{secrets.token_hex(4)}@example.com"
    made = env.http.post("/admin/v1/users", json={"email": email.upper(), "password": PASSWORD},
                         headers=admin(env))
    assert made.status_code == 201 and made.json()["email"] == email
    assert "password_hash" not in made.json() and made.json()["has_password"] is True
    again = env.http.post("/admin/v1/users", json={"email": email, "password": PASSWORD},
                          headers=admin(env))
    assert again.status_code == 409
    weak = env.http.post("/admin/v1/users", json={"email": "w" + email, "password": "short"},
                         headers=admin(env))
    assert weak.status_code == 400
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/sessions"),
                         ("DELETE", "/sessions"), ("POST", "/password-reset")):
        response = env.http.request(method, f"/admin/v1/users/nosuchuser{path}",
                                    headers=admin(env), json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)


def test_patch_validates_and_canonicalises(env: Env) -> None:
    """PATCH sets name, a canonical email (unverified), email_verified; 409 for a taken
    address; 400 for unknown fields and wrong types; every change audited with the actor."""
    user, other = new_user(env), new_user(env)
    path = f"/admin/v1/users/{user['id']}"
    fresh = f"  NEW-{secrets.token_hex(4)}@Example.COM "
    changed = env.http.patch(path, json={"name": "Grace", "email": fresh}, headers=admin(env))
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == fresh.strip().lower() and changed.json()["name"] == "Grace"
    assert changed.json()["email_verified"] is False
    verified = env.http.patch(path, json={"email_verified": True}, headers=admin(env))
    assert verified.json()["email_verified"] is True
    taken = env.http.patch(path, json={"email": other["email"]}, headers=admin(env))
    assert taken.status_code == 409
    for body in ({"password_hash": "x"}, {"disabled": "yes"}, {"email": "not an email"},
                 {"name": 5}, {"email_verified": 1}):
        assert env.http.patch(path, json=body, headers=admin(env)).status_code == 400, body
    assert env.http.patch(path, content=b"[]", headers={
        **admin(env), "Content-Type": "application/json"}).status_code == 400
    updated = events(env, user=user["id"], event="user.updated")
    assert updated and all(e["detail"]["actor"] == OPS for e in updated)


def test_disabling_ends_every_session_and_token(env: Env) -> None:
    """PATCH disabled=true: the user's access token, refresh token and cookie stop working, and
    login is refused; enabling lets them sign in again."""
    user = new_user(env)
    pair = password_login(env, user["email"])
    cookie, _ = cookie_login(env, user["email"])
    path = f"/admin/v1/users/{user['id']}"
    sessions = env.http.get(f"{path}/sessions", headers=admin(env)).json()["sessions"]
    assert {s["kind"] for s in sessions} == {"token", "cookie"}
    viewed = events(env, user=user["id"], event="user.viewed")
    assert {(e["detail"]["what"], e["detail"]["actor"]) for e in viewed} == {
        ("profile", OPS), ("sessions", OPS)}  # new_user read the profile
    assert env.http.patch(path, json={"disabled": True}, headers=admin(env)).json()["disabled"]
    assert env.http.get("/v1/userinfo", headers=bearer(pair["access_token"])).status_code == 401
    assert env.http.get("/v1/session", headers=cookie_headers(cookie)).status_code == 401
    refreshed = env.http.post("/v1/token", data={"grant_type": "refresh_token",
                                                 "refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 400
    login = env.http.post("/v1/token", data={"grant_type": "password",
                                             "username": user["email"], "password": PASSWORD})
    assert login.status_code in (400, 401)
    assert env.http.get(f"{path}/sessions", headers=admin(env)).json()["sessions"] == []
    disabled = events(env, user=user["id"], event="user.disabled")
    assert disabled[0]["detail"]["actor"] == OPS
    env.http.patch(path, json={"disabled": False}, headers=admin(env))
    password_login(env, user["email"])


def test_revoking_sessions_and_password_reset(env: Env) -> None:
    """DELETE .../sessions ends them all; password-reset ends them and mails a link."""
    user = new_user(env)
    path = f"/admin/v1/users/{user['id']}"
    pair = password_login(env, user["email"])
    ended = env.http.delete(f"{path}/sessions", headers=admin(env))
    assert ended.status_code == 200 and ended.json() == {"revoked": 1}
    assert env.http.get("/v1/userinfo", headers=bearer(pair["access_token"])).status_code == 401
    pair = password_login(env, user["email"])
    reset = env.http.post(f"{path}/password-reset", headers=admin(env))
    assert reset.status_code == 202
    assert env.http.get("/v1/userinfo", headers=bearer(pair["access_token"])).status_code == 401
    sent = events(env, user=user["id"], event="password.reset_sent")
    assert sent[0]["detail"]["actor"] == OPS
    outbox = env.data_dir / "outbox"
    deadline = time.monotonic() + 30  # delivery runs in the background: poll with a deadline
    while not reset_mailed(outbox, user["email"]):
        assert time.monotonic() < deadline, "the reset mail was never written"
        time.sleep(0.05)


def test_audit_listing_filters_and_pages(env: Env) -> None:
    """user, event and since filter; cursors page newest first and are sealed to the filters."""
    user = new_user(env)
    for _ in range(3):
        password_login(env, user["email"])
    logins = events(env, user=user["id"], event="login.ok")
    assert len(logins) == 3 and all(e["user_id"] == user["id"] for e in logins)
    first = env.http.get("/admin/v1/audit", params={"user": user["id"], "limit": "2"},
                         headers=admin(env)).json()
    second = env.http.get("/admin/v1/audit", params={"user": user["id"], "limit": "2",
                                                      "cursor": first["next_cursor"]},
                          headers=admin(env)).json()
    seen = first["events"] + second["events"]
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    foreign = env.http.get("/admin/v1/audit", params={"event": "login.ok",
                                                       "cursor": first["next_cursor"]},
                           headers=admin(env))
    assert foreign.status_code == 400
    assert events(env, user=user["id"], since=str(env.clock.now() + 10)) == []
    assert env.http.get("/admin/v1/audit", params={"since": "yesterday"},
                        headers=admin(env)).status_code == 400


def test_keys_list_and_rotate(env: Env) -> None:
    """Rotation activates the next key and is audited with the actor; no private key is shown."""
    before = env.http.get("/admin/v1/keys", headers=admin(env)).json()["keys"]
    assert all(set(k) == {"kid", "alg", "state", "created_at", "activated_at", "retired_at",
                          "publish_until"} for k in before)
    next_kid = next(k["kid"] for k in before if k["state"] == "next")
    rotated = env.http.post("/admin/v1/keys/rotate", headers=admin(env))
    assert rotated.status_code == 200 and rotated.json()["active"] == next_kid
    assert events(env, event="key.rotated")[0]["detail"]["actor"] == OPS


# -- the user's own data ---------------------------------------------------------------------------


def test_export_is_everything_about_the_caller_without_secrets(env: Env) -> None:
    """A recent login exports profile, identities, sessions, factors and audit events; no hash."""
    user = new_user(env)
    pair = password_login(env, user["email"])
    response = env.http.get("/v1/me/export", headers=bearer(pair["access_token"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("no-store")
    body = response.json()
    assert body["profile"]["email"] == user["email"] and body["identities"] == []
    assert [s["kind"] for s in body["sessions"]] == ["token"]
    assert body["factors"]["password"]["set"] is True
    assert {e["event"] for e in body["audit_events"]} >= {"user.created", "login.ok"}
    assert "argon2" not in response.text and "password_hash" not in response.text
    cookie, _ = cookie_login(env, user["email"])
    by_cookie = env.http.get("/v1/me/export", headers=cookie_headers(cookie))
    assert by_cookie.status_code == 200 and by_cookie.json()["profile"]["id"] == user["id"]


def test_export_and_deletion_need_a_recent_login(env: Env) -> None:
    """An old login (a stolen session or token) can neither export nor delete: 401 RFC 9470."""
    user = new_user(env)
    pair = password_login(env, user["email"])
    cookie, csrf = cookie_login(env, user["email"])
    env.clock.advance(MAX_AGE + 1)
    refreshed = env.http.post("/v1/token", data={"grant_type": "refresh_token",
                                                 "refresh_token": pair["refresh_token"]})
    token = refreshed.json()["access_token"]  # alive, but its login is old
    for headers in (bearer(token), cookie_headers(cookie, csrf)):
        for method, path in (("GET", "/v1/me/export"), ("DELETE", "/v1/me")):
            response = env.http.request(method, path, headers=headers)
            assert response.status_code == 401, (method, response.text)
            assert response.json()["error"] == "insufficient_user_authentication"
            assert f"max_age={MAX_AGE}" in response.headers["www-authenticate"]
    assert env.http.get(f"/admin/v1/users/{user['id']}", headers=admin(env)).status_code == 200


def test_deleting_my_account_ends_everything_and_frees_the_address(env: Env) -> None:
    """DELETE /v1/me: the access token, refresh token and cookie fail, login fails, the address
    can sign up again, and the audit trail keeps only a pseudonym."""
    user = new_user(env)
    pair = password_login(env, user["email"])
    cookie, _ = cookie_login(env, user["email"])
    deleted = env.http.delete("/v1/me", headers=bearer(pair["access_token"]))
    assert deleted.status_code == 204, deleted.text
    assert env.http.get("/v1/userinfo", headers=bearer(pair["access_token"])).status_code == 401
    assert env.http.get("/v1/session", headers=cookie_headers(cookie)).status_code == 401
    refreshed = env.http.post("/v1/token", data={"grant_type": "refresh_token",
                                                 "refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 400
    login = env.http.post("/v1/token", data={"grant_type": "password",
                                             "username": user["email"], "password": PASSWORD})
    assert login.status_code == 400 and login.json()["error"] == "invalid_grant"
    assert env.http.get(f"/admin/v1/users/{user['id']}", headers=admin(env)).status_code == 404
    assert events(env, user=user["id"]) == []
    gone = [e for e in events(env, event="user.deleted")]
    assert gone and gone[0]["user_id"].startswith("del_") and gone[0]["ip"] is None
    trail = events(env, user=gone[0]["user_id"])
    assert {"user.created", "login.ok", "user.deleted"} <= {e["event"] for e in trail}
    assert all(e["ip"] is None for e in trail)
    again = env.http.post("/v1/users", json={"email": user["email"], "password": PASSWORD})
    assert again.status_code == 201 and again.json()["id"] != user["id"]


def test_deleting_by_cookie_clears_the_cookie_and_admin_delete_is_the_same(env: Env) -> None:
    """Cookie mode needs the CSRF token and clears the cookie; DELETE /admin/v1/users/{id}
    ends the user's tokens the same way and is audited with the actor."""
    user = new_user(env)
    cookie, csrf = cookie_login(env, user["email"])
    assert env.http.delete("/v1/me", headers=cookie_headers(cookie)).status_code == 403
    deleted = env.http.delete("/v1/me", headers=cookie_headers(cookie, csrf))
    assert deleted.status_code == 204
    assert "authd_session=" in deleted.headers["set-cookie"]
    victim = new_user(env)
    pair = password_login(env, victim["email"])
    assert env.http.delete(f"/admin/v1/users/{victim['id']}", headers=admin(env)).status_code == 204
    assert env.http.get("/v1/userinfo", headers=bearer(pair["access_token"])).status_code == 401
    assert env.http.delete(f"/admin/v1/users/{victim['id']}", headers=admin(env)).status_code == 404
    assert events(env, event="user.deleted")[0]["detail"]["actor"] == OPS
