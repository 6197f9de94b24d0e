"""The account page's changes that need a recent sign-in (RFC 9470): the password again, in place.

In-process app on an injected clock (no sleeps): the session ages past
``sensitive_max_age``, and turning TOTP on, turning it off, new recovery
codes and deleting the account then show a "confirm it is you" form
instead of acting; the right password renews the sign-in (the same guard as
a login), a wrong one is refused, and the change then goes through.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.config import Settings
from authd.http.app import create_app
from tests.pages.conftest import PASSWORD

MAX_AGE = 600


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves, so the sign-in ages exactly."""
    return FixedClock(time.time())


@pytest.fixture
def browser(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    """The pages in process, signed up through /signup (a fresh sign-in)."""
    settings = Settings(data_dir=tmp_path, sensitive_max_age=MAX_AGE)
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
        signed_up = client.post("/signup", data={"csrf_token": _csrf(client, "/signup"),
                                                 "email": "ada@example.com", "password": PASSWORD})
        assert signed_up.status_code == 302, signed_up.text
        yield client


def _csrf(client: TestClient, path: str) -> str:
    """The CSRF token of the form on ``path``."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _act(client: TestClient, action: str, **fields: str) -> tuple[int, str]:
    """Post one /account form; its status and page."""
    answer = client.post("/account", data={"csrf_token": _csrf(client, "/account"),
                                           "action": action, **fields})
    return answer.status_code, answer.text


@pytest.mark.parametrize("action", ["totp_begin", "delete"])
def test_an_old_sign_in_is_asked_for_the_password_first(browser: TestClient, clock: FixedClock,
                                                        action: str) -> None:
    """Past sensitive_max_age the change does not happen: a 401 page with the password form."""
    clock.advance(MAX_AGE + 1)
    status, page = _act(browser, action, confirm="yes")
    assert status == 401 and 'id="reauth_password"' in page
    assert 'id="totp-secret"' not in page
    assert browser.get("/v1/session").status_code == 200  # not deleted


def test_the_password_again_lets_the_change_through(browser: TestClient,
                                                    clock: FixedClock) -> None:
    """A wrong password is refused (the form again); the right one renews the sign-in and
    the same change then shows the new TOTP key."""
    clock.advance(MAX_AGE + 1)
    status, page = _act(browser, "reauth", reauth_password="not the password 1")
    assert status == 401 and 'id="reauth_password"' in page
    status, _page = _act(browser, "reauth", reauth_password=PASSWORD)
    assert status == 303
    status, page = _act(browser, "totp_begin")
    assert status == 200 and 'id="totp-secret"' in page
