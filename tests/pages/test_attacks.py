"""Attacks on the hosted pages, over plain HTTP where a browser would hide the answer.

CSRF (missing, wrong, another visitor's or another session's token, a foreign
origin), clickjacking headers, open redirects through return_to, reflected
XSS, session fixation, mailed tokens in URLs, and the API's rate limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import serving
from tests.pages.conftest import PASSWORD, Site, new_email

FORMS = ["/login", "/signup", "/forgot-password", "/sign-in"]
PAGES = ["/", "/login", "/signup", "/sign-in", "/forgot-password", "/reset-password",
         "/verify-email", "/confirm-email", "/mfa", "/account", "/logout"]


def csrf_of(http: httpx.Client, path: str) -> str:
    """The CSRF token of the form on ``path`` (the client keeps the pre-session cookie)."""
    page = http.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def signed_in(site: Site) -> tuple[httpx.Client, str]:
    """A new account signed in through /signup: the client and its session's form token."""
    http = site.server.client()
    token = csrf_of(http, "/signup")
    answer = http.post("/signup", data={"csrf_token": token, "email": new_email(),
                                        "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["location"] == "/account"
    return http, csrf_of(http, "/account")


@pytest.fixture
def visitor(site: Site) -> Iterator[httpx.Client]:
    """A client that has no session yet."""
    with site.server.client() as client:
        yield client


@pytest.mark.parametrize("path", FORMS)
def test_forms_without_their_token_are_refused(visitor: httpx.Client, path: str) -> None:
    """A form posted without a token, with a wrong one or another visitor's is a 403 page."""
    mine = csrf_of(visitor, path)
    with httpx.Client(base_url=str(visitor.base_url)) as other:
        theirs = csrf_of(other, path)
    for token in (None, "", mine[:-2] + "xx", theirs):
        data = {"email": new_email(), "password": PASSWORD, **({"csrf_token": token} if token is not None
                                                            else {})}
        answer = visitor.post(path, data=data)
        assert answer.status_code == 403, (path, token)
        assert "text/html" in answer.headers["content-type"]
    assert visitor.post(path, data={"csrf_token": mine, "email": "x"}).status_code != 403


def test_a_foreign_origin_is_refused_even_with_the_token(visitor: httpx.Client) -> None:
    """Origin must be authd's; ``null`` only from authd's own pages (Sec-Fetch-Site)."""
    token = csrf_of(visitor, "/login")
    for headers in ({"Origin": "https://evil.example"},
                    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        answer = visitor.post("/login", data={"csrf_token": token, "email": new_email(),
                                              "password": PASSWORD}, headers=headers)
        assert answer.status_code == 403, headers


def test_account_forms_need_this_sessions_own_token(site: Site) -> None:
    """Another session's token, or a pre-session form token, changes nothing on the account."""
    alice, alice_token = signed_in(site)
    bob, bob_token = signed_in(site)
    try:
        pre_session = csrf_of(bob, "/login")
        for token in (bob_token, pre_session, ""):
            answer = alice.post("/account", data={"csrf_token": token, "action": "end_others"})
            assert answer.status_code == 403
        logout = alice.post("/logout", data={"csrf_token": bob_token})
        assert logout.status_code == 403 and alice.get("/account").status_code == 200
        done = alice.post("/account", data={"csrf_token": alice_token, "action": "end_others"})
        assert done.status_code == 303
    finally:
        alice.close()
        bob.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(visitor: httpx.Client, path: str) -> None:
    """Strict CSP (no unsafe-inline), no framing, no Referer, no sniffing, no caching."""
    answer = visitor.get(path)
    csp = answer.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in csp, (path, directive)
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


def _escapes(site: Site) -> list[str]:
    app = site.app.url
    host_port = app.split("//", 1)[1].split("/", 1)[0]
    return ["//evil.example/app", "/\\evil.example", "https://evil.example/app",
            f"http://{host_port}@evil.example/app", f"http://evil.example@{host_port}/app",
            "javascript:alert(1)", "data:text/html,hi", f"{app}/..%2F..%2Fevil",
            "%2F%2Fevil.example", f"{app}/../evil", f"http:\\\\{host_port}/app",
            f"{app}\r\nLocation: https://evil.example"]


def test_return_to_cannot_leave_the_allow_list(site: Site, visitor: httpx.Client) -> None:
    """Every known open-redirect trick is a 400 page; no answer points anywhere else."""
    email = new_email()
    with site.server.client() as http:
        token = csrf_of(http, "/signup")
        assert http.post("/signup", data={"csrf_token": token, "email": email,
                                          "password": PASSWORD}).status_code == 302
    token = csrf_of(visitor, "/login")
    for target in _escapes(site):
        shown = visitor.get("/login", params={"return_to": target})
        assert shown.status_code == 400, target
        posted = visitor.post("/login", data={"csrf_token": token, "email": email,
                                              "password": PASSWORD, "return_to": target})
        assert posted.status_code == 400, target
        assert "location" not in posted.headers
    assert visitor.get("/login", params={"return_to": site.app.url + "/x"}).status_code == 200


def test_values_shown_back_are_escaped(visitor: httpx.Client, site: Site) -> None:
    """An address, a state or a name full of markup comes back as text, never as markup."""
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    token = csrf_of(visitor, "/login")
    answer = visitor.post("/login", data={"csrf_token": token, "email": evil, "password": "x"})
    page = visitor.get("/login", params={"state": evil, "return_to": site.app.url})
    for html in (answer.text, page.text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&#34;&gt;&lt;script&gt;" in html


def test_a_login_never_keeps_a_planted_session(site: Site) -> None:
    """Session fixation: a cookie set before the login is ended, and a new one is minted."""
    attacker, _ = signed_in(site)
    planted = attacker.cookies["authd_session"]
    email = new_email()
    with site.server.client() as victim:
        token = csrf_of(victim, "/signup")
        victim.post("/signup", data={"csrf_token": token, "email": email, "password": PASSWORD})
        victim.cookies.clear()
        victim.cookies.set("authd_session", planted)
        token = csrf_of(victim, "/login")
        answer = victim.post("/login", data={"csrf_token": token, "email": email,
                                             "password": PASSWORD})
        assert answer.status_code == 302
        minted = answer.cookies["authd_session"]
        assert minted != planted
    assert attacker.get("/v1/session").status_code == 401  # the planted session is over
    attacker.close()


@pytest.mark.parametrize("path", ["/reset-password", "/verify-email", "/confirm-email", "/sign-in"])
def test_mailed_tokens_leave_the_url_at_once(visitor: httpx.Client, path: str) -> None:
    """?token= is answered by a redirect to the bare path and a path-scoped HttpOnly cookie."""
    token = "A" * 43
    answer = visitor.get(path, params={"token": token})
    assert answer.status_code == 303 and answer.headers["location"] == path
    cookie = answer.headers["set-cookie"]
    assert token in cookie and "HttpOnly" in cookie and f"Path={path}" in cookie
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_pages_keep_the_apis_rate_limits(tmp_path: Path) -> None:
    """The account's failure limit holds on /login: 429 with Retry-After, in the page's language."""
    with serving(tmp_path, "sqlite", env={"AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "3"}) as server, \
            server.client() as http:
        email = new_email()
        token = csrf_of(http, "/login?lang=ko")
        answers = [http.post("/login", data={"csrf_token": token, "email": email,
                                             "password": "wrong password 1"}) for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        assert int(answers[-1].headers["retry-after"]) > 0
        assert "시도가 너무 많습니다" in answers[-1].text


def test_the_theme_and_the_language_choice(visitor: httpx.Client) -> None:
    """The colour is served as a stylesheet; ?lang= is remembered; Accept-Language decides first."""
    theme = visitor.get("/ui/theme.css")
    assert theme.headers["content-type"].startswith("text/css")
    assert "--primary: #1f5fbf;" in theme.text
    assert "<h1>로그인</h1>" in visitor.get("/login", headers={"Accept-Language": "ko-KR"}).text
    assert "<h1>Sign in</h1>" in visitor.get("/login").text
    visitor.get("/login?lang=ko")
    assert "<h1>로그인</h1>" in visitor.get("/login", headers={"Accept-Language": "en"}).text


def test_token_mode_leaves_authds_own_session_alone(site: Site) -> None:
    """Signing in to an app in token mode sets no cookie and keeps the authd session."""
    http, _ = signed_in(site)
    try:
        email = new_email()
        with site.server.client() as other:
            token = csrf_of(other, "/signup")
            other.post("/signup", data={"csrf_token": token, "email": email, "password": PASSWORD})
        token = csrf_of(http, "/login")
        answer = http.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD,
                                           "mode": "token", "return_to": site.app.url + "/cb"})
        assert answer.status_code == 302 and "code=" in answer.headers["location"]
        assert "authd_session" not in answer.headers.get("set-cookie", "")
        assert http.get("/v1/session").status_code == 200
    finally:
        http.close()


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{"csrf_token": 1, "email": ["x"]}'),
    ("application/json", b"not json"),
    ("multipart/form-data; boundary=x", b"--x--"),
    ("application/x-www-form-urlencoded", b"email=%ff%fe&csrf_token=a"),
    ("application/x-www-form-urlencoded", b"email=a&email=b"),
    ("application/x-www-form-urlencoded", b"x=" + b"a" * 70_000),
])
def test_garbage_posts_are_never_a_500(visitor: httpx.Client, content_type: str, body: bytes) -> None:
    """Whatever a client posts to a page, the answer is a 4xx page, never a 500 (signed out,
    /account sends the visitor to /login and /reset-password without its link says so)."""
    csrf_of(visitor, "/login")
    for path in ("/login", "/sign-in", "/forgot-password", "/signup"):
        answer = visitor.post(path, content=body, headers={"Content-Type": content_type})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "text/html" in answer.headers["content-type"]
    for path in ("/account", "/reset-password", "/verify-email", "/logout"):
        answer = visitor.post(path, content=body, headers={"Content-Type": content_type})
        assert answer.status_code < 500, (path, answer.status_code)


@pytest.mark.parametrize("query", [{"return_to": "\x00"}, {"mode": "both"}, {"state": "\x01"},
                                   {"code_challenge": "short", "code_challenge_method": "S256"},
                                   {"mode": "token"}, {"lang": "x" * 5000}, {"token": "\x00"}])
def test_garbage_queries_are_a_4xx_or_the_page(visitor: httpx.Client, query: dict[str, str]) -> None:
    """A bad hand-off is a clear 400 page; an unknown language or token is ignored."""
    for path in ("/login", "/signup", "/sign-in"):
        answer = visitor.get(path, params=query)
        assert answer.status_code in (200, 303, 400), (path, query, answer.status_code)
