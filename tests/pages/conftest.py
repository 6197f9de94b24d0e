"""The hosted pages under test: one real authd process with a real SMTP sink and a stand-in app.

The app (a loopback HTTP server) is where ``return_to`` sends the browser:
it records each request's path and ``Referer`` header, so tests see exactly
what an app would receive.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.e2e.conftest import serving
from tests.pages.browser import chromium
from tests.peers import fake_oidc
from tests.peers.fake_oidc import FakeOIDCProvider
from tests.peers.smtp_sink import SmtpSink, text_of
from tests.serverproc import AuthdServer

PASSWORD = "correct horse battery staple 42"


@dataclass
class App:
    """A stand-in for the app that sends people to the pages and gets them back."""

    url: str
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path?query, Referer)


@dataclass
class Site:
    server: AuthdServer
    sink: SmtpSink
    app: App
    op: FakeOIDCProvider  # a social-login provider that consents at once

    @property
    def url(self) -> str:
        return self.server.url

    def mail(self, to: str, word: str, count: int = 1) -> EmailMessage:
        """The ``count``-th message to ``to`` whose subject has ``word`` (waits for it)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = [m for m in self.sink.messages(to) if word.lower() in m["Subject"].lower()]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no {word!r} mail to {to}")

    def link(self, to: str, word: str, count: int = 1) -> str:
        match = re.search(r"https?://\S+token=[A-Za-z0-9_%-]+", text_of(self.mail(to, word, count)))
        assert match
        return match.group(0)


def _app_server() -> tuple[ThreadingHTTPServer, App]:
    app = App(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            app.seen.append((self.path, self.headers.get("Referer")))
            body = b"<!doctype html><title>app</title><p>the app</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    app.url = f"http://127.0.0.1:{server.server_address[1]}/app"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, app


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One authd with the pages on, mailing a real SMTP sink, allowing the stand-in app."""
    tmp = tmp_path_factory.mktemp("pages")
    app_server, app = _app_server()
    try:
        with SmtpSink(tmp / "mailbox") as sink, FakeOIDCProvider() as op:
            config = tmp / "authd.toml"
            config.write_text(f'redirect_allowlist = ["{app.url}"]\n\n[oauth.providers.fake]\n'
                              f'issuer = "{op.issuer}"\nclient_id = "{fake_oidc.CLIENT_ID}"\n'
                              f'client_secret = "{fake_oidc.CLIENT_SECRET}"\n')
            with serving(tmp / "authd", "sqlite", env={
                    "AUTHD_CONFIG": str(config), "AUTHD_MAIL__SMTP_URL": sink.url,
                    "AUTHD_MAIL__POLL_INTERVAL": "0.1", "AUTHD_UI__APP_NAME": "Acme"}) as server:
                yield Site(server, sink, app, op)
    finally:
        app_server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One Chromium with JavaScript for a whole test module (start-up is the slow part)."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def fresh(browser: WebDriver, site: Site) -> WebDriver:
    """The module's browser with no cookies for authd: a new visitor."""
    browser.get(site.url + "/ui/theme.css")
    browser.delete_all_cookies()
    return browser


@pytest.fixture
def http(site: Site) -> Iterator[httpx.Client]:
    """A plain HTTP client of the server, for what a browser cannot forge or see."""
    with site.server.client() as client:
        yield client


def new_email() -> str:
    return f"page-{secrets.token_hex(6)}@example.com"
