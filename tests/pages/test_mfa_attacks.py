"""Attacks on /mfa over plain HTTP: the waiting sign-in's cookie is the only way through.

Without the cookie, with it altered (the hand-off or the token inside), moved
to another browser, or posted without the form's CSRF token, /mfa signs no
one in. The cookie itself is HttpOnly, SameSite=Strict, scoped to /mfa, and
the mfa_token is in no URL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from tests.pages.conftest import PASSWORD, Site, new_email
from tests.pages.test_attacks import csrf_of

MFA_COOKIE = "authd_mfa"
SESSION_COOKIE = "authd_session"


def _with_totp(site: Site) -> tuple[str, pyotp.TOTP]:
    """A new account with TOTP on (through the API with the pages' session); email and app."""
    with site.server.client() as http:
        email = new_email()
        http.post("/signup", data={"csrf_token": csrf_of(http, "/signup"), "email": email,
                                   "password": PASSWORD})
        csrf = http.get("/v1/session").json()["csrf_token"]
        secret = http.post("/v1/mfa/totp", headers={"X-CSRF-Token": csrf}).json()["secret"]
        phone = pyotp.TOTP(secret)
        confirmed = http.post("/v1/mfa/totp/confirm", headers={"X-CSRF-Token": csrf},
                              json={"code": phone.at(time.time())})
        assert confirmed.status_code == 200, confirmed.text
    return email, phone


@pytest.fixture
def waiting(site: Site) -> Iterator[tuple[httpx.Client, httpx.Response, pyotp.TOTP]]:
    """A visitor whose password was right for an account with TOTP: the answer sent it to /mfa."""
    email, phone = _with_totp(site)
    with site.server.client() as http:
        answer = http.post("/login", data={"csrf_token": csrf_of(http, "/login"), "email": email,
                                           "password": PASSWORD,
                                           "return_to": site.app.url + "/after"})
        yield http, answer, phone


def _post_code(http: httpx.Client, code: str, csrf: str | None = "read") -> httpx.Response:
    """Post ``code`` to /mfa with this visitor's form token ("read": from /login), or ``csrf``."""
    data = {"code": code}
    if csrf == "read":
        csrf = csrf_of(http, "/login")  # the same pre-session cookie's token as /mfa's form
    if csrf is not None:
        data["csrf_token"] = csrf
    return http.post("/mfa", data=data)


def test_the_password_alone_sets_no_session_and_no_token_in_the_url(
        waiting: tuple[httpx.Client, httpx.Response, pyotp.TOTP]) -> None:
    """After the first factor: a redirect to plain /mfa, no session cookie, and the waiting
    sign-in's cookie HttpOnly, SameSite=Strict, Path=/mfa."""
    http, answer, _phone = waiting
    assert answer.status_code == 303 and answer.headers["location"] == "/mfa"
    cookies = answer.headers.get_list("set-cookie")
    assert not any(c.startswith(SESSION_COOKIE) for c in cookies)
    mfa = next(c for c in cookies if c.startswith(MFA_COOKIE + "="))
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/mfa", "Max-Age=300"):
        assert attribute in mfa, mfa
    assert http.get("/v1/session").status_code == 401


def test_the_right_code_finishes_the_hand_off(
        waiting: tuple[httpx.Client, httpx.Response, pyotp.TOTP], site: Site) -> None:
    """The control case: the intact cookie and the right code sign in and go to return_to."""
    http, _answer, phone = waiting
    done = _post_code(http, phone.at(time.time() + 30))
    assert done.status_code == 302 and done.headers["location"] == site.app.url + "/after"
    assert http.get("/v1/session").json()["session"]["amr"] == ["pwd", "otp", "mfa"]


def test_mfa_without_the_cookie_signs_no_one_in(site: Site,
                                                waiting: tuple[httpx.Client, httpx.Response,
                                                               pyotp.TOTP]) -> None:
    """The right code from a browser with no waiting sign-in: a 400 page that says to sign in
    again; no session."""
    _http, _answer, phone = waiting
    with site.server.client() as stranger:
        answer = _post_code(stranger, phone.at(time.time() + 30), csrf_of(stranger, "/login"))
        assert answer.status_code == 400 and "No sign-in is waiting" in answer.text
        assert stranger.get("/v1/session").status_code == 401


def test_an_altered_cookie_is_no_sign_in(
        waiting: tuple[httpx.Client, httpx.Response, pyotp.TOTP]) -> None:
    """Any changed character of the sealed cookie (the hand-off, the token) reads as nothing
    waiting: the right code then signs no one in."""
    http, _answer, phone = waiting
    sealed = http.cookies[MFA_COOKIE]
    for position in (0, len(sealed) // 2, len(sealed) - 1):
        flipped = "A" if sealed[position] != "A" else "B"
        http.cookies.delete(MFA_COOKIE)
        http.cookies.set(MFA_COOKIE, sealed[:position] + flipped + sealed[position + 1:],
                         path="/mfa")
        answer = _post_code(http, phone.at(time.time() + 30))
        assert answer.status_code == 400, position
        assert http.get("/v1/session").status_code == 401
    http.cookies.delete(MFA_COOKIE)
    http.cookies.set(MFA_COOKIE, sealed, path="/mfa")  # put back the same way: it works
    assert _post_code(http, phone.at(time.time() + 30)).status_code == 302


def test_a_cookie_moved_to_another_browser_is_no_sign_in(
        site: Site, waiting: tuple[httpx.Client, httpx.Response, pyotp.TOTP]) -> None:
    """The sealed cookie is bound to its browser's pre-session cookie: copied into another
    browser (with that browser's own valid form token) it opens nothing."""
    http, _answer, phone = waiting
    with site.server.client() as thief:
        token = csrf_of(thief, "/login")
        thief.cookies.delete(MFA_COOKIE)
        thief.cookies.set(MFA_COOKIE, http.cookies[MFA_COOKIE], path="/mfa")
        answer = _post_code(thief, phone.at(time.time() + 30), token)
        assert answer.status_code == 400
        assert thief.get("/v1/session").status_code == 401


def test_mfa_without_its_csrf_token_is_refused(
        waiting: tuple[httpx.Client, httpx.Response, pyotp.TOTP]) -> None:
    """A post to /mfa without the form's token, or with a wrong one, is a 403; the waiting
    sign-in stays usable for the real form."""
    http, _answer, phone = waiting
    code = phone.at(time.time() + 30)
    assert _post_code(http, code, None).status_code == 403
    assert _post_code(http, code, "not-the-token").status_code == 403
    assert _post_code(http, code).status_code == 302


def test_deleting_the_account_needs_the_box_ticked(site: Site) -> None:
    """The delete action without its confirmation is refused (a 400 page); the account stays."""
    with site.server.client() as http:
        http.post("/signup", data={"csrf_token": csrf_of(http, "/signup"), "email": new_email(),
                                   "password": PASSWORD})
        answer = http.post("/account", data={"csrf_token": csrf_of(http, "/account"),
                                             "action": "delete"})
        assert answer.status_code == 400
        assert http.get("/v1/session").status_code == 200
