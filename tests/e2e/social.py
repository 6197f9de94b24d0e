"""Helpers for the social-login end-to-end tests: a browser's walk through authd and a provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.peers.fake_github import FakeGitHub
from tests.peers.fake_oidc import FakeOIDCProvider
from tests.serverproc import AuthdServer

APP = "https://app.example/auth/done"
ALLOWED = "https://app.example/auth"


def write_config(path: Path, providers: dict[str, dict[str, Any]]) -> Path:
    """A TOML file as an operator would write it (the README's way of adding providers)."""
    lines = [f'redirect_allowlist = ["{ALLOWED}"]', ""]
    for name, table in providers.items():
        lines.append(f"[oauth.providers.{name}]")
        for key, value in table.items():
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def start(browser: httpx.Client, authd: str, provider: str, *, redirect_to: str = APP,
          mode: str = "session", **extra: str) -> str:
    """GET authorize: authd answers 302 to the provider; the provider URL is returned."""
    response = browser.get(f"{authd}/v1/oauth/{provider}/authorize",
                           params={"redirect_to": redirect_to, "mode": mode, **extra})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def through_fake(browser: httpx.Client, provider_url: str) -> str:
    """A provider that consents at once: its 302 to authd's callback."""
    response = browser.get(provider_url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def finish(browser: httpx.Client, callback_url: str) -> httpx.Response:
    """The browser follows the provider's redirect back to authd."""
    return browser.get(callback_url)


def back_at_app(response: httpx.Response) -> dict[str, str]:
    """The query authd sent the user back to the app with (asserting it is the app)."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(APP), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def has_session(browser: httpx.Client, authd: str) -> bool:
    return browser.get(f"{authd}/v1/session").status_code == 200


def session_user(browser: httpx.Client, authd: str) -> dict[str, Any]:
    response = browser.get(f"{authd}/v1/session")
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


def callback_query(callback_url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}


# -- one authd per backend with a misbehaving OIDC provider and a GitHub stand-in ----


@dataclass
class Social:
    authd: AuthdServer
    op: FakeOIDCProvider
    github: FakeGitHub

    @property
    def url(self) -> str:
        return self.authd.url


def log_in(social: Social, browser: httpx.Client, provider: str = "fake", **kwargs: str) -> httpx.Response:
    return finish(browser, through_fake(browser, start(browser, social.url, provider, **kwargs)))


def assert_refused(social: Social, browser: httpx.Client, response: httpx.Response,
                   error: str, fragment: str = "") -> None:
    """Back at the app with ``error`` (and a description mentioning ``fragment``), no session."""
    query = back_at_app(response)
    assert query["error"] == error, query
    assert fragment.lower() in query.get("error_description", "").lower(), query
    assert "set-cookie" not in response.headers or "authd_session" not in response.headers["set-cookie"]
    assert not has_session(browser, social.url)
