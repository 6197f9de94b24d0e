"""Cookie mode over a real server: login, use, logout, fixation, CSRF, origins, forced logout."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, bearer, login, new_email, refresh, sign_up, start_server
from tests.serverproc import AuthdServer

COOKIE = "authd_session"


@pytest.fixture(scope="module", params=["sqlite", "postgres", "redis"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Cookie mode on every session store: SQL (SQLite, PostgreSQL) and Redis."""
    from tests.conftest import drop_pg_database

    srv, url = start_server(tmp_path_factory.mktemp(f"cookies-{request.param}"), request.param)
    yield srv
    srv.stop()
    if url:
        drop_pg_database(url)


def cookie_login(server: AuthdServer, email: str, password: str = PASSWORD
                 ) -> tuple[httpx.Client, str]:
    """A browser-like client (cookie jar) logged in by POST /v1/session; returns its CSRF token."""
    browser = server.client()
    response = browser.post("/v1/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return browser, response.json()["csrf_token"]


def with_cookie(server: AuthdServer, method: str, path: str, value: str,
                **kwargs: object) -> httpx.Response:
    """One request carrying exactly this session cookie (no cookie jar involved)."""
    return httpx.request(method, server.url + path, headers={"Cookie": f"{COOKIE}={value}"},
                         timeout=30, **kwargs)  # type: ignore[arg-type]


def test_login_sets_a_hardened_cookie(http: httpx.Client, server: AuthdServer) -> None:
    """The cookie is HttpOnly, SameSite=Lax, Path=/, opaque and >= 256 bits."""
    email = sign_up(http)
    response = http.post("/v1/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    value = header.split(";", 1)[0].split("=", 1)[1]
    assert len(value) >= 43
    body = response.json()
    assert body["user"]["email"] == email and len(body["csrf_token"]) >= 32
    assert response.headers["cache-control"] == "no-store"


def test_login_use_logout_and_the_old_cookie_never_works_again(http: httpx.Client,
                                                                server: AuthdServer) -> None:
    """After logout the server record is gone: replaying the old cookie is 401."""
    email = sign_up(http)
    browser, csrf = cookie_login(server, email)
    with closing(browser):
        old_cookie = browser.cookies[COOKIE]
        assert browser.get("/v1/session").json()["user"]["email"] == email
        assert browser.get("/v1/userinfo").json()["email"] == email
        assert browser.delete("/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert COOKIE not in browser.cookies
    assert with_cookie(server, "GET", "/v1/userinfo", old_cookie).status_code == 401
    assert with_cookie(server, "GET", "/v1/session", old_cookie).status_code == 401


def test_wrong_and_unknown_credentials_answer_the_same_401(http: httpx.Client) -> None:
    """Cookie login refuses wrong and unknown credentials identically."""
    email = sign_up(http)
    wrong = http.post("/v1/session", json={"email": email, "password": "wrong password!!"})
    unknown = http.post("/v1/session", json={"email": new_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and wrong.json()["error"] == "invalid_credentials"
    assert "set-cookie" not in wrong.headers


def test_session_fixation_a_planted_id_is_never_adopted(http: httpx.Client,
                                                        server: AuthdServer) -> None:
    """Logging in with a planted cookie yields a fresh id; the planted one stays useless."""
    email = sign_up(http)
    planted = "A" * 43
    response = with_cookie(server, "POST", "/v1/session", planted,
                           json={"email": email, "password": PASSWORD})
    issued = response.cookies[COOKIE]
    assert issued != planted
    assert with_cookie(server, "GET", "/v1/userinfo", planted).status_code == 401
    second = with_cookie(server, "POST", "/v1/session", issued,
                         json={"email": email, "password": PASSWORD})
    assert second.cookies[COOKIE] != issued  # every login mints a new id


def test_csrf_missing_wrong_and_right(http: httpx.Client, server: AuthdServer) -> None:
    """Unsafe cookie requests need the session's X-CSRF-Token."""
    browser, csrf = cookie_login(server, sign_up(http))
    with closing(browser):
        assert browser.delete("/v1/session").status_code == 403
        wrong = browser.delete("/v1/session", headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403 and wrong.json()["error"] == "csrf_failed"
        assert browser.get("/v1/session").status_code == 200  # still logged in
        assert browser.delete("/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_cross_origin_unsafe_request_is_refused(http: httpx.Client, server: AuthdServer) -> None:
    """A right CSRF token from a foreign Origin is still refused."""
    browser, csrf = cookie_login(server, sign_up(http))
    with closing(browser):
        foreign = browser.delete("/v1/session", headers={"X-CSRF-Token": csrf,
                                                         "Origin": "https://evil.example"})
        assert foreign.status_code == 403
        cross = browser.delete("/v1/session", headers={"X-CSRF-Token": csrf,
                                                       "Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        same = browser.delete("/v1/session", headers={"X-CSRF-Token": csrf,
                                                      "Origin": server.url})
        assert same.status_code == 204


def test_login_from_a_foreign_origin_is_refused(http: httpx.Client) -> None:
    """No login CSRF: POST /v1/session from an origin that is not allowed is 403."""
    email = sign_up(http)
    response = http.post("/v1/session", json={"email": email, "password": PASSWORD},
                         headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_bearer_requests_need_no_csrf(http: httpx.Client) -> None:
    """Token-authenticated unsafe requests are not subject to CSRF."""
    tokens = login(http, sign_up(http))
    response = http.delete("/v1/sessions", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204


def test_one_session_list_for_both_kinds_and_forced_logout(http: httpx.Client,
                                                           server: AuthdServer) -> None:
    """Cookie sessions and token families appear together; ending the cookie from a phone
    logs the browser out on its very next request."""
    email = sign_up(http)
    phone = login(http, email)
    browser, _ = cookie_login(server, email)
    with closing(browser):
        browser.headers["User-Agent"] = "TestBrowser/1.0"
        listing = http.get("/v1/sessions", headers=bearer(phone["access_token"])).json()
        kinds = sorted(s["kind"] for s in listing["sessions"])
        assert kinds == ["cookie", "token"]
        cookie_session = next(s for s in listing["sessions"] if s["kind"] == "cookie")
        assert {"id", "created_at", "last_used_at", "user_agent", "ip", "current"} <= \
            set(cookie_session)
        assert cookie_session["ip"] == "127.0.0.1"
        from_browser = browser.get("/v1/sessions").json()["sessions"]
        assert [s["kind"] for s in from_browser if s["current"]] == ["cookie"]
        ended = http.delete(f"/v1/sessions/{cookie_session['id']}",
                            headers=bearer(phone["access_token"]))
        assert ended.status_code == 204
        assert browser.get("/v1/userinfo").status_code == 401


def test_logout_everywhere_ends_cookies_and_families(http: httpx.Client,
                                                     server: AuthdServer) -> None:
    """DELETE /v1/sessions from the browser (with CSRF) ends every session of both kinds."""
    email = sign_up(http)
    phone = login(http, email)
    browser, csrf = cookie_login(server, email)
    with closing(browser):
        assert browser.delete("/v1/sessions", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert browser.get("/v1/userinfo").status_code == 401
    assert http.get("/v1/userinfo", headers=bearer(phone["access_token"])).status_code == 401
    assert refresh(http, phone["refresh_token"]).status_code == 400


def test_password_change_ends_every_other_session(http: httpx.Client,
                                                  server: AuthdServer) -> None:
    """Changing the password keeps the current session and ends all others."""
    email = sign_up(http)
    phone = login(http, email)
    other_browser, _ = cookie_login(server, email)
    browser, csrf = cookie_login(server, email)
    new_password = "an entirely new passphrase 9"
    with closing(browser), closing(other_browser):
        wrong = browser.post("/v1/password", headers={"X-CSRF-Token": csrf},
                             json={"current_password": "nope nope nope", "new_password": new_password})
        assert wrong.status_code == 400
        changed = browser.post("/v1/password", headers={"X-CSRF-Token": csrf},
                               json={"current_password": PASSWORD, "new_password": new_password})
        assert changed.status_code == 204
        assert browser.get("/v1/userinfo").status_code == 200
        assert other_browser.get("/v1/userinfo").status_code == 401
    assert http.get("/v1/userinfo", headers=bearer(phone["access_token"])).status_code == 401
    login(http, email, new_password)


@pytest.mark.parametrize("value", ["", "garbage", "A" * 43, "x" * 5000, "%00%ff", "\"quoted\""])
def test_garbage_and_forged_cookies_are_401(server: AuthdServer, value: str) -> None:
    """Unknown, forged, oversized and garbage cookies are 401, never 5xx."""
    response = with_cookie(server, "GET", "/v1/userinfo", value)
    assert response.status_code == 401


def test_only_a_hash_of_the_session_id_is_stored(tmp_path) -> None:
    """The database holds no cookie value, only its digest."""
    srv, _ = start_server(tmp_path, "sqlite")
    try:
        with srv.client() as http:
            email = sign_up(http)
            response = http.post("/v1/session", json={"email": email, "password": PASSWORD})
            cookie = response.cookies[COOKIE]
        with sqlite3.connect(tmp_path / "authd.db") as db:
            dump = "\n".join(db.iterdump())
        assert cookie not in dump
        assert cookie.encode() not in (tmp_path / "authd.db").read_bytes()
    finally:
        srv.stop()


def test_cors_allow_list(tmp_path) -> None:
    """Listed origins get credentialed CORS answers; unlisted and null origins get none."""
    srv, _ = start_server(tmp_path, "sqlite", {"AUTHD_CORS_ORIGINS": '["https://app.example"]'})
    try:
        with srv.client() as http:
            pre = http.options("/v1/session", headers={
                "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-csrf-token"})
            assert pre.status_code == 200
            assert pre.headers["access-control-allow-origin"] == "https://app.example"
            assert pre.headers["access-control-allow-credentials"] == "true"
            for origin in ("https://evil.example", "null"):
                bad = http.options("/v1/session", headers={
                    "Origin": origin, "Access-Control-Request-Method": "POST"})
                assert 400 <= bad.status_code < 500
                assert "access-control-allow-origin" not in bad.headers
                simple = http.get("/healthz", headers={"Origin": origin})
                assert "access-control-allow-origin" not in simple.headers
            ok = http.get("/healthz", headers={"Origin": "https://app.example"})
            assert ok.headers["access-control-allow-origin"] == "https://app.example"
            assert ok.headers["access-control-allow-origin"] != "*"
            email = sign_up(http)
            allowed = http.post("/v1/session", json={"email": email, "password": PASSWORD},
                                headers={"Origin": "https://app.example"})
            assert allowed.status_code == 200
    finally:
        srv.stop()


def test_redis_down_is_503_and_never_a_pass(tmp_path) -> None:
    """With the session store (Redis) down, cookie requests get 503, Bearer requests still work."""
    srv, _ = start_server(tmp_path, "sqlite", {"AUTHD_REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        with srv.client() as http:
            email = sign_up(http)
            tokens = login(http, email)
            assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
            response = http.post("/v1/session", json={"email": email, "password": PASSWORD})
            assert response.status_code == 503
            assert response.json()["error"] == "temporarily_unavailable"
            assert with_cookie(srv, "GET", "/v1/userinfo", "A" * 43).status_code == 503
            ready = http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["redis"] == "unavailable"
    finally:
        srv.stop()
