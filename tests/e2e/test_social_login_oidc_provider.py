"""Social login against a real, OpenID Certified provider process (npm ``oidc-provider``).

authd runs as a real process and discovers the provider; the browser (an
httpx client with a cookie jar) walks the provider's login and consent pages.
Both modes end to end, with both ID-token algorithms and both client
authentication methods, and the attacks that a real provider lets us stage:
state from another browser, replayed callbacks, and a code injected into
another login (refused by the provider because the PKCE verifier differs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import drop_pg_database, make_pg_database
from tests.e2e.conftest import RELAXED_LIMITS, bearer
from tests.e2e.social import (
    APP,
    back_at_app,
    callback_query,
    finish,
    has_session,
    session_user,
    start,
    write_config,
)
from tests.peers.oidc_provider import OpenIDProvider, log_in
from tests.serverproc import AuthdServer, free_port

ACCOUNTS: dict[str, dict[str, object]] = {
    "alice": {"sub": "alice-0001", "email": "alice@example.com", "email_verified": True, "name": "Alice"},
    "bob": {"sub": "bob-0002", "email": "bob@example.com", "email_verified": True, "name": "Bob"},
    "mallory": {"sub": "mallory-0003", "email": "mallory@example.com", "email_verified": True},
}


@dataclass
class Setup:
    authd: AuthdServer
    op: OpenIDProvider

    def callback(self, provider: str) -> str:
        return f"{self.authd.url}/v1/oauth/{provider}/callback"


def _client(client_id: str, callback: str, method: str, alg: str) -> dict[str, object]:
    return {"client_id": client_id, "client_secret": f"{client_id}-secret-0123456789abcdef",
            "redirect_uris": [callback], "token_endpoint_auth_method": method,
            "id_token_signed_response_alg": alg}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """authd (SQLite and PostgreSQL) configured against a real OpenID Provider, with two clients."""
    tmp = tmp_path_factory.mktemp(f"op-{request.param}")
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1/oauth"
    clients = [_client("authd-rs", f"{base}/op/callback", "client_secret_basic", "RS256"),
               _client("authd-es", f"{base}/op-es/callback", "client_secret_post", "ES256")]
    pg_url = make_pg_database() if request.param == "postgres" else None
    with OpenIDProvider(clients=clients, accounts=ACCOUNTS) as op:
        config = write_config(tmp / "authd.toml", {
            "op": {"issuer": op.issuer, "client_id": "authd-rs",
                   "client_secret": clients[0]["client_secret"]},
            "op-es": {"issuer": op.issuer, "client_id": "authd-es",
                      "client_secret": clients[1]["client_secret"],
                      "token_auth_method": "client_secret_post"},
        })
        server = AuthdServer(tmp, database_url=pg_url, port=port,
                             env={**RELAXED_LIMITS, "AUTHD_CONFIG": str(config)}).start()
        try:
            yield Setup(server, op)
        finally:
            server.stop()
            if pg_url:
                drop_pg_database(pg_url)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A fresh browser: its own cookie jar, no session."""
    with httpx.Client(timeout=30) as client:
        yield client


def through_provider(setup: Setup, browser: httpx.Client, provider: str, login: str,
                     **kwargs: str) -> str:
    """authd's authorize, then the provider's login and consent pages: the callback URL."""
    provider_url = start(browser, setup.authd.url, provider, **kwargs)
    assert provider_url.startswith(setup.op.issuer)
    return log_in(browser, provider_url, login=login, callback_prefix=setup.callback(provider))


def test_session_mode_end_to_end(setup: Setup, browser: httpx.Client) -> None:
    """RS256 ID token, client_secret_basic: the user lands on the app with a session cookie."""
    callback = through_provider(setup, browser, "op", "alice")
    assert callback_query(callback)["iss"] == setup.op.issuer  # RFC 9207, checked by authd
    response = finish(browser, callback)
    assert response.status_code == 302 and response.headers["location"] == APP
    user = session_user(browser, setup.authd.url)
    assert (user["email"], user["name"], user["email_verified"]) == ("alice@example.com", "Alice", True)
    sessions = browser.get(f"{setup.authd.url}/v1/sessions").json()["sessions"]
    assert [s["kind"] for s in sessions if s["current"]] == ["cookie"]


def test_token_mode_end_to_end(setup: Setup, browser: httpx.Client) -> None:
    """ES256 ID token, client_secret_post: a one-time code, exchanged for a token pair."""
    query = back_at_app(finish(browser, through_provider(setup, browser, "op-es", "bob", mode="token")))
    assert set(query) == {"code"}
    assert not has_session(browser, setup.authd.url)
    exchange = {"grant_type": "authorization_code", "code": query["code"]}
    pair = browser.post(f"{setup.authd.url}/v1/token", data=exchange)
    assert pair.status_code == 200, pair.text
    me = browser.get(f"{setup.authd.url}/v1/userinfo", headers=bearer(pair.json()["access_token"]))
    assert me.json()["email"] == "bob@example.com"
    replay = browser.post(f"{setup.authd.url}/v1/token", data=exchange)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_same_person_twice_is_the_same_user(setup: Setup, browser: httpx.Client) -> None:
    """The same provider account signing in from two browsers is one authd user."""
    finish(browser, through_provider(setup, browser, "op", "alice"))
    first = session_user(browser, setup.authd.url)["id"]
    with httpx.Client(timeout=30) as laptop:
        finish(laptop, through_provider(setup, laptop, "op", "alice"))
        assert session_user(laptop, setup.authd.url)["id"] == first


def test_replayed_callback_is_refused(setup: Setup, browser: httpx.Client) -> None:
    """A callback URL from a real provider works once; its replay signs no one in."""
    callback = through_provider(setup, browser, "op", "alice")
    assert finish(browser, callback).status_code == 302
    browser.cookies.delete("authd_session")
    replay = finish(browser, callback)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"
    assert not has_session(browser, setup.authd.url)


def test_callback_in_another_browser_logs_no_one_in(setup: Setup, browser: httpx.Client) -> None:
    """Login CSRF: mallory's callback URL, opened in the victim's browser, is refused."""
    with httpx.Client(timeout=30) as mallory:
        callback = through_provider(setup, mallory, "op", "mallory")
    response = finish(browser, callback)
    assert response.status_code == 400
    assert not has_session(browser, setup.authd.url)


def test_injected_code_is_refused_by_pkce_at_the_provider(setup: Setup, browser: httpx.Client) -> None:
    """Mallory's code put into the victim's callback: the provider refuses the victim's verifier."""
    with httpx.Client(timeout=30) as mallory:
        mallory_code = callback_query(through_provider(setup, mallory, "op", "mallory"))["code"]
    victim = callback_query(through_provider(setup, browser, "op", "alice"))
    response = browser.get(setup.callback("op"), params={**victim, "code": mallory_code})
    query = back_at_app(response)
    assert query["error"] == "access_denied" and "invalid_grant" in query["error_description"]
    assert not has_session(browser, setup.authd.url)


def test_account_without_email_is_refused(setup: Setup, browser: httpx.Client) -> None:
    """An unknown login at the provider has no email: authd will not invent an account for it."""
    query = back_at_app(finish(browser, through_provider(setup, browser, "op", "nobody")))
    assert query["error"] == "access_denied"
    assert not has_session(browser, setup.authd.url)
