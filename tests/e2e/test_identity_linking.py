"""Explicit identity linking end to end: a signed-in user adds and removes social-login accounts.

Same set-up as ``test_social_login.py`` (real authd per backend, a provider on
loopback that consents at once, a GitHub stand-in). The attacks: a leaked link
ticket, a replayed ticket, a ticket for another provider, cross-site POSTs,
stealing an identity linked to someone else, unlinking an account's last
way in, and forced linking (an attacker's Bearer ticket opened in a victim's
browser).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, bearer
from tests.e2e.social import (
    ALLOWED,
    APP,
    Social,
    back_at_app,
    finish,
    log_in,
    session_user,
    through_fake,
)
from tests.e2e.test_bad_input import BODIES
from tests.peers.fake_github import new_github_user
from tests.peers.fake_oidc import new_user


def password_session(social: Social, browser: httpx.Client) -> tuple[str, str]:
    """A password account signed in with a cookie: (user id, CSRF token)."""
    email = f"{secrets.token_hex(6)}@example.com"
    assert browser.post(f"{social.url}/v1/users", json={"email": email, "password": PASSWORD}
                        ).status_code == 201
    signed_in = browser.post(f"{social.url}/v1/session", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return signed_in.json()["user"]["id"], signed_in.json()["csrf_token"]


def csrf_of(social: Social, browser: httpx.Client) -> str:
    """The CSRF token of the browser's cookie session."""
    token: str = browser.get(f"{social.url}/v1/session").json()["csrf_token"]
    return token


def ask_to_link(social: Social, client: httpx.Client, provider: str = "fake",
                headers: dict[str, str] | None = None, **body: str) -> httpx.Response:
    """POST /v1/identities/<provider>: ask authd for a link URL for the signed-in user."""
    return client.post(f"{social.url}/v1/identities/{provider}", headers=headers,
                       json={"redirect_to": APP, **body})


def link_url(response: httpx.Response) -> str:
    """The authorize URL (with its single-use link ticket) from a successful link request."""
    assert response.status_code == 200, response.text
    url: str = response.json()["authorize_url"]
    assert "link_ticket=" in url and response.json()["expires_in"] == 60
    return url


def complete_link(browser: httpx.Client, url: str) -> httpx.Response:
    """The browser opens authd's link URL, the provider consents, the callback links."""
    to_provider = browser.get(url)
    assert to_provider.status_code == 302, to_provider.text
    return finish(browser, through_fake(browser, to_provider.headers["location"]))


def identities(social: Social, client: httpx.Client,
               headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The identities linked to the caller's account, as GET /v1/identities lists them."""
    listed = client.get(f"{social.url}/v1/identities", headers=headers)
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()["identities"]
    return found


def test_password_account_links_a_provider_and_then_signs_in_with_it(social: Social,
                                                                      browser: httpx.Client) -> None:
    """The provider's email differs from the account's: linking is by proof of both, not email."""
    user_id, csrf = password_session(social, browser)
    url = link_url(ask_to_link(social, browser, headers={"X-CSRF-Token": csrf}))
    done = complete_link(browser, url)
    assert back_at_app(done) == {} and done.headers["location"] == APP
    assert [(i["provider"], i["subject"]) for i in identities(social, browser)] == [
        ("fake", social.op.user["sub"])]
    assert session_user(browser, social.url)["id"] == user_id  # the browser's session is unchanged
    with httpx.Client(timeout=30) as phone:
        log_in(social, phone)
        assert session_user(phone, social.url)["id"] == user_id


def app_login(social: Social, app: httpx.Client, email: str) -> str:
    """An app's access token (audience: authd itself) for a password account."""
    tokens = app.post(f"{social.url}/v1/token", data={
        "grant_type": "password", "username": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    token: str = tokens.json()["access_token"]
    return token


def complete_as_app(social: Social, app: httpx.Client, token: str, provider: str, code: str,
                    verifier: str) -> httpx.Response:
    """The app's call that finishes a Bearer-started link with the code and its verifier."""
    return app.post(f"{social.url}/v1/identities/{provider}/complete", headers=bearer(token),
                    json={"link_code": code, "link_verifier": verifier})


def test_an_app_with_a_bearer_token_links_through_any_browser(social: Social,
                                                              browser: httpx.Client) -> None:
    """The system browser brings back a link_code; the app completes with its link_verifier."""
    user_id, _ = password_session(social, browser)
    email = browser.get(f"{social.url}/v1/session").json()["user"]["email"]
    with httpx.Client(timeout=30) as app:
        token = app_login(social, app, email)
        asked = ask_to_link(social, app, "github", headers=bearer(token))
        url, verifier = link_url(asked), asked.json()["link_verifier"]
        with httpx.Client(timeout=30) as system_browser:
            back = back_at_app(complete_link(system_browser, url))
        assert set(back) == {"link_code"}
        assert identities(social, app, headers=bearer(token)) == []  # nothing until the app says so
        done = complete_as_app(social, app, token, "github", back["link_code"], verifier)
        assert done.status_code == 204, done.text
        linked = identities(social, app, headers=bearer(token))
        replay = complete_as_app(social, app, token, "github", back["link_code"], verifier)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert [i["provider"] for i in linked] == ["github"]
    with httpx.Client(timeout=30) as other:
        log_in(social, other, "github")
        assert session_user(other, social.url)["id"] == user_id


def test_forced_linking_attaches_nothing_to_the_attackers_account(social: Social,
                                                                  browser: httpx.Client) -> None:
    """Login CSRF through linking: the attacker's Bearer ticket opened in the victim's browser.

    The provider approves silently, so before the fix the victim's provider account was
    added to the attacker's account, and the victim's next "Sign in with ..." landed in
    it. Now the victim's browser only carries a link_code back to the app; the attacker
    never sees it, and the victim's own app cannot complete it.
    """
    with httpx.Client(timeout=30) as attacker_browser, httpx.Client(timeout=30) as attacker:
        attacker_id, _ = password_session(social, attacker_browser)
        attacker_email = attacker_browser.get(f"{social.url}/v1/session").json()["user"]["email"]
        attacker_token = app_login(social, attacker, attacker_email)
        asked = ask_to_link(social, attacker, headers=bearer(attacker_token))
        url, attacker_verifier = link_url(asked), asked.json().get("link_verifier", "")
        # The victim (signed in at the provider, which consents at once) is made to open it.
        back = back_at_app(complete_link(browser, url))
        assert identities(social, attacker, headers=bearer(attacker_token)) == []
        # Without the code, the attacker's verifier and token achieve nothing.
        guessed = complete_as_app(social, attacker, attacker_token, "fake",
                                  secrets.token_urlsafe(32), attacker_verifier)
        assert guessed.status_code == 400
        # The victim's app, signed in as the victim, cannot use the code either (and spends it).
        password_session(social, browser)
        victim_email = browser.get(f"{social.url}/v1/session").json()["user"]["email"]
        with httpx.Client(timeout=30) as victim_app:
            victim_token = app_login(social, victim_app, victim_email)
            refused = complete_as_app(social, victim_app, victim_token, "fake", back["link_code"],
                                      attacker_verifier)
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
            assert identities(social, victim_app, headers=bearer(victim_token)) == []
        late = complete_as_app(social, attacker, attacker_token, "fake", back["link_code"],
                               attacker_verifier)
        assert late.status_code == 400
        assert identities(social, attacker, headers=bearer(attacker_token)) == []
    with httpx.Client(timeout=30) as victim_again:
        log_in(social, victim_again)  # the victim's provider account still is not the attacker's
        assert session_user(victim_again, social.url)["id"] != attacker_id


def test_a_link_code_needs_the_apps_verifier(social: Social, browser: httpx.Client) -> None:
    """A link_code that leaks from the browser (history, logs) is useless without the verifier."""
    password_session(social, browser)
    email = browser.get(f"{social.url}/v1/session").json()["user"]["email"]
    with httpx.Client(timeout=30) as app:
        token = app_login(social, app, email)
        asked = ask_to_link(social, app, headers=bearer(token))
        back = back_at_app(complete_link(browser, link_url(asked)))
        wrong = complete_as_app(social, app, token, "fake", back["link_code"], "A" * 43)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        spent = complete_as_app(social, app, token, "fake", back["link_code"],
                                asked.json()["link_verifier"])
        assert spent.status_code == 400  # the failed attempt spent the code
        assert identities(social, app, headers=bearer(token)) == []


@pytest.mark.parametrize("body", [{}, {"link_code": "x"}, {"link_verifier": "y"},
                                  {"link_code": "", "link_verifier": ""},
                                  {"link_code": "A" * 5000, "link_verifier": "B" * 5000}])
def test_malformed_link_completions_are_4xx(social: Social, browser: httpx.Client,
                                            body: dict[str, str]) -> None:
    """Bad input at completion is a clear 4xx, never a 500."""
    password_session(social, browser)
    email = browser.get(f"{social.url}/v1/session").json()["user"]["email"]
    with httpx.Client(timeout=30) as app:
        token = app_login(social, app, email)
        answer = app.post(f"{social.url}/v1/identities/fake/complete", headers=bearer(token),
                          json=body)
    assert 400 <= answer.status_code < 500 and "error" in answer.json()


def test_cookie_callers_get_no_verifier_and_link_at_once(social: Social,
                                                         browser: httpx.Client) -> None:
    """A cookie ticket is bound to its session already: no verifier, no extra step."""
    _, csrf = password_session(social, browser)
    asked = ask_to_link(social, browser, headers={"X-CSRF-Token": csrf})
    assert "link_verifier" not in asked.json()
    assert back_at_app(complete_link(browser, link_url(asked))) == {}
    assert [i["provider"] for i in identities(social, browser)] == ["fake"]


def test_a_ticket_works_once(social: Social, browser: httpx.Client) -> None:
    """A link ticket is single use: opening the link URL again is a 400."""
    _, csrf = password_session(social, browser)
    url = link_url(ask_to_link(social, browser, headers={"X-CSRF-Token": csrf}))
    complete_link(browser, url)
    replay = browser.get(url)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"


def test_a_leaked_cookie_ticket_is_useless_in_another_browser(social: Social,
                                                              browser: httpx.Client) -> None:
    """The attacker opens the victim's ticket and would log in with their own provider account."""
    _, csrf = password_session(social, browser)
    url = link_url(ask_to_link(social, browser, headers={"X-CSRF-Token": csrf}))
    with httpx.Client(timeout=30) as attacker:
        stolen = attacker.get(url)
        assert stolen.status_code == 400 and "browser" in stolen.json()["error_description"]
    assert identities(social, browser) == []


def test_a_ticket_is_for_its_provider_only(social: Social, browser: httpx.Client) -> None:
    """A link ticket issued for one provider links nothing at another."""
    _, csrf = password_session(social, browser)
    url = link_url(ask_to_link(social, browser, headers={"X-CSRF-Token": csrf}))
    elsewhere = browser.get(url.replace("/v1/oauth/fake/", "/v1/oauth/fakelink/"))
    assert elsewhere.status_code == 400
    assert identities(social, browser) == []


@pytest.mark.parametrize("ticket", ["", "x", "A" * 43, "A" * 5000, "%00"])
def test_garbage_tickets_are_400(social: Social, browser: httpx.Client, ticket: str) -> None:
    """Empty, made-up, oversized or binary link tickets are a clear 400."""
    answer = browser.get(f"{social.url}/v1/oauth/fake/authorize?link_ticket={ticket}")
    assert answer.status_code == 400


def test_cross_site_link_requests_need_the_csrf_token(social: Social, browser: httpx.Client) -> None:
    """A cookie-authenticated link request without the session's CSRF token is a 403."""
    password_session(social, browser)
    assert ask_to_link(social, browser).status_code == 403
    forged = ask_to_link(social, browser, headers={"X-CSRF-Token": "A" * 43})
    assert forged.status_code == 403


def test_link_requests_are_checked(social: Social, browser: httpx.Client) -> None:
    """Link requests need a signed-in user, a known provider and an allowed redirect_to."""
    assert ask_to_link(social, browser).status_code == 401  # nobody signed in
    _, csrf = password_session(social, browser)
    headers = {"X-CSRF-Token": csrf}
    assert ask_to_link(social, browser, "nope", headers=headers).status_code == 404
    for bad in ("https://evil.example/", "//evil.example", f"{ALLOWED}@evil.example"):
        assert ask_to_link(social, browser, headers=headers, redirect_to=bad).status_code == 400
    missing = browser.post(f"{social.url}/v1/identities/fake", headers=headers, json={})
    assert missing.status_code == 400


def test_an_identity_of_another_user_is_never_moved(social: Social, browser: httpx.Client) -> None:
    """A provider account already linked to another user is never moved to the caller's account."""
    with httpx.Client(timeout=30) as owner:
        log_in(social, owner)  # the provider account now belongs to a user of its own
        owner_id = session_user(owner, social.url)["id"]
    _, csrf = password_session(social, browser)
    refused = back_at_app(complete_link(browser, link_url(
        ask_to_link(social, browser, headers={"X-CSRF-Token": csrf}))))
    assert refused["error"] == "access_denied" and "another user" in refused["error_description"]
    assert identities(social, browser) == []
    with httpx.Client(timeout=30) as again:
        log_in(social, again)
        assert session_user(again, social.url)["id"] == owner_id


def test_one_account_per_provider(social: Social, browser: httpx.Client) -> None:
    """An account links one identity per provider; relinking the same one is harmless."""
    _, csrf = password_session(social, browser)
    headers = {"X-CSRF-Token": csrf}
    first = social.op.user
    complete_link(browser, link_url(ask_to_link(social, browser, headers=headers)))
    social.op.user = new_user()
    refused = back_at_app(complete_link(browser, link_url(ask_to_link(social, browser, headers=headers))))
    assert refused["error"] == "access_denied" and "unlink it first" in refused["error_description"]
    social.op.user = first  # linking the same account again changes nothing and is no error
    assert back_at_app(complete_link(browser, link_url(ask_to_link(social, browser, headers=headers)))) == {}
    assert [i["subject"] for i in identities(social, browser)] == [first["sub"]]


def test_unlink_and_the_last_way_in_is_kept(social: Social, browser: httpx.Client) -> None:
    """Unlinking works, but never removes an account's only way to sign in."""
    log_in(social, browser)  # a social-only account: no password
    csrf = csrf_of(social, browser)
    headers = {"X-CSRF-Token": csrf}
    last = browser.delete(f"{social.url}/v1/identities/fake", headers=headers)
    assert last.status_code == 409 and "only way" in last.json()["error_description"]
    social.github.user = new_github_user()
    complete_link(browser, link_url(ask_to_link(social, browser, "github", headers=headers)))
    assert browser.delete(f"{social.url}/v1/identities/fake", headers=headers).status_code == 204
    assert [i["provider"] for i in identities(social, browser)] == ["github"]
    assert browser.delete(f"{social.url}/v1/identities/fake", headers=headers).status_code == 404
    assert browser.delete(f"{social.url}/v1/identities/github").status_code == 403  # no CSRF token


def test_unlinked_provider_account_no_longer_signs_in_to_the_account(social: Social,
                                                                     browser: httpx.Client) -> None:
    """After unlinking, that provider account no longer signs in to the account."""
    user_id, csrf = password_session(social, browser)
    headers = {"X-CSRF-Token": csrf}
    complete_link(browser, link_url(ask_to_link(social, browser, headers=headers)))
    assert browser.delete(f"{social.url}/v1/identities/fake", headers=headers).status_code == 204
    with httpx.Client(timeout=30) as other:
        log_in(social, other)  # a verified email of its own: a new account, not the old one
        assert session_user(other, social.url)["id"] != user_id


def test_links_and_unlinks_are_in_the_audit_trail(social: Social, browser: httpx.Client) -> None:
    """Linking and unlinking an identity are recorded in the user's audit trail."""
    user_id, csrf = password_session(social, browser)
    headers = {"X-CSRF-Token": csrf}
    complete_link(browser, link_url(ask_to_link(social, browser, headers=headers)))
    browser.delete(f"{social.url}/v1/identities/fake", headers=headers)
    events = [json.loads(line) for line in social.authd.cli("audit", "--user", user_id).stdout.splitlines()]
    names = [e["event"] for e in events]
    assert "identity.linked" in names and "identity.unlinked" in names


@pytest.mark.parametrize(("content_type", "body"), BODIES)
def test_malformed_link_requests_are_4xx(social: Social, browser: httpx.Client,
                                         content_type: str | None, body: bytes) -> None:
    """Malformed link request bodies get a 4xx with an error, never a 500."""
    _, csrf = password_session(social, browser)
    headers = {"X-CSRF-Token": csrf, **({"Content-Type": content_type} if content_type else {})}
    answer = browser.post(f"{social.url}/v1/identities/fake", headers=headers, content=body)
    assert 400 <= answer.status_code < 500 and "error" in answer.json()
