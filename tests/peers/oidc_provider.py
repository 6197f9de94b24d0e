"""A real OpenID Provider process (npm ``oidc-provider``, OpenID Certified) for end-to-end tests.

``OpenIDProvider`` runs ``node tests/peers/oidc/server.mjs`` on a free loopback port with the
given clients and accounts; ``log_in`` walks its development login and consent pages with an
``httpx.Client`` the way a browser would and hands back the relying party's callback URL.

The node dependencies are pinned by ``tests/peers/oidc/package-lock.json``; ``./dev test``
installs them (``npm ci`` in that directory).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

OIDC_DIR = Path(__file__).parent / "oidc"

# server.mjs names the provider's cookies with this prefix so that they cannot collide with
# the relying party's cookies: cookies ignore the port, and both servers live on 127.0.0.1.
COOKIE_PREFIX = "_oidcpeer_"
SESSION_COOKIE = COOKIE_PREFIX + "session"  # plus its ".sig" (cookies are signed)

START_TIMEOUT = 90.0  # ~1 s on an idle machine; generous for a loaded CI box
_MAX_STEPS = 12
_SNIPPET = 1500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_state(pid: int) -> str:
    """What a process is doing, from /proc (for the message of a start that timed out)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        wchan = Path(f"/proc/{pid}/wchan").read_text().strip()
    except OSError:
        return "state unknown"
    return f"state {stat[0]}, waiting in {wchan or '-'}, cpu ticks {int(stat[11]) + int(stat[12])}"


class OpenIDProvider:
    """``with OpenIDProvider(clients=[...], accounts={...}) as op:`` ... ``op.issuer``.

    ``clients``: oidc-provider client metadata, e.g. ``{"client_id", "client_secret",
    "redirect_uris": [...], "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post",
    "id_token_signed_response_alg": "RS256" | "ES256"}`` (grant_types/response_types default to
    authorization_code/code). ``accounts``: login name -> claims (``sub``, ``email``,
    ``email_verified``, ``name``); an unknown login is an account with ``sub`` = login and no email.
    PKCE (S256) is required of every client; the authorization response carries ``iss`` (RFC 9207).
    """

    def __init__(self, *, clients: list[dict[str, object]], accounts: dict[str, dict[str, object]]) -> None:
        self.clients = clients
        self.accounts = accounts
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._timed_out = False

    # -- process -------------------------------------------------------------------------------

    @property
    def output(self) -> str:
        """Everything the provider printed so far (stdout and stderr)."""
        return "".join(self._lines)

    def start(self, timeout: float = START_TIMEOUT) -> OpenIDProvider:
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                f"the OpenID Provider's node modules are not installed: run "
                f"`npm ci --no-audit --no-fund` in {OIDC_DIR} (./dev test does it)")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node (>= 20.19) is needed to run the test OpenID Provider")
        earlier = ""
        for attempt in range(3):
            if self._spawn(node, timeout):
                return self
            # Lost the race for the free port to another process, or (seen once in a full
            # parallel run) a start that never printed READY: a new process on another port.
            retry = "EADDRINUSE" in self.output or (self._timed_out and attempt == 0)
            if retry and attempt < 2:
                earlier += self.output
                self.port = _free_port()
                self.issuer = f"http://127.0.0.1:{self.port}"
                continue
            break
        raise RuntimeError("the OpenID Provider did not start; its output:\n"
                           f"{(earlier + self.output)[-4000:]}")

    def _spawn(self, node: str, timeout: float) -> bool:
        self._lines = []
        self._timed_out = False
        self._ready = threading.Event()
        # exit_on_stdin_close: the provider exits when this process dies and the pipe closes.
        config = {"issuer": self.issuer, "port": self.port, "clients": self.clients,
                  "accounts": self.accounts, "exit_on_stdin_close": True}
        env = {**os.environ, "OP_CONFIG": json.dumps(config), "NO_COLOR": "1"}
        env.pop("DEBUG", None)  # the `debug` package would flood the pipe
        self.process = subprocess.Popen(
            [node, "server.mjs"], cwd=OIDC_DIR, env=env, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, args=(self.process,), daemon=True,
                                        name=f"oidc-provider-{self.port}")
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return True
            if self.process.poll() is not None:
                self._reader.join(2)
                if self._ready.is_set():
                    break
                self.process = None
                return False
        state = _process_state(self.process.pid)
        self.stop()
        self._lines.append(f"\n[authd tests: no READY within {timeout:.0f} s ({state}); stopped]\n")
        self._timed_out = True
        return False

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.append(line)
            if line.strip() == "READY":
                self._ready.set()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(2)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> OpenIDProvider:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- helpers -------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The provider's ``/.well-known/openid-configuration`` document."""
        response = httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


# -- driving the login and consent pages ----------------------------------------------------------

class _Form:
    def __init__(self, action: str, method: str) -> None:
        self.action = action
        self.method = method
        self.fields: dict[str, str] = {}  # name -> value of every named input
        self.types: dict[str, str] = {}  # name -> input type


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: unescape(value or "") for name, value in attrs}
        if tag == "form":
            self._current = _Form(attr.get("action", ""), attr.get("method", "get").lower())
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attr.get("name"):
            name = attr["name"]
            self._current.fields[name] = attr.get("value", "")
            self._current.types[name] = attr.get("type", "text").lower()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _snippet(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code}:\n{response.text[:_SNIPPET]}"


def _forget_provider_session(client: httpx.Client) -> None:
    for cookie in list(client.cookies.jar):
        if cookie.name.startswith(SESSION_COOKIE):
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)


def log_in(client: httpx.Client, authorize_url: str, *, login: str, callback_prefix: str,
           password: str = "any password", fresh_session: bool = True) -> str:
    """Walk the provider's dev login + consent pages; return the callback URL (not requested).

    ``authorize_url`` is where the relying party sent the browser (the provider's ``/auth``).
    From there: ``GET /auth?...`` -> 303 ``/interaction/<uid>`` (login page) -> ``POST
    /interaction/<uid>`` ``prompt=login&login=..&password=..`` -> 303 ``/auth/<uid>`` -> 303
    ``/interaction/<uid2>`` (consent page) -> ``POST /interaction/<uid2>`` ``prompt=consent`` -> 303
    ``/auth/<uid2>`` -> 303 ``<redirect_uri>?code=..&state=..&iss=..``, which is returned. Pages
    that the provider skips (consent already given in this session) are skipped here too; an error
    redirect to the callback (``?error=..``) is returned like a success.

    ``fresh_session`` (default) first drops the provider's session cookie, so that the login page
    is shown and ``login`` selects the account even if the client logged in before.
    """
    if fresh_session:
        _forget_provider_session(client)
    url = authorize_url
    logged_in = False
    for _ in range(_MAX_STEPS):
        if url.startswith(callback_prefix):
            # An error response (e.g. invalid_request) legitimately comes before any page.
            if fresh_session and not logged_in and "error" not in parse_qs(urlsplit(url).query):
                raise AssertionError(f"the provider redirected to {url} without showing its login page")
            return url
        response = client.get(url, follow_redirects=False)
        if response.is_redirect:
            url = urljoin(str(response.url), response.headers["location"])
            continue
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            raise AssertionError(f"unexpected provider response\n{_snippet(response)}")
        parser = _FormParser()
        parser.feed(response.text)
        forms = [form for form in parser.forms if form.fields.get("prompt") in ("login", "consent")]
        if len(forms) != 1:
            raise AssertionError(f"expected one login or consent form\n{_snippet(response)}")
        form = forms[0]
        data = dict(form.fields)
        if data["prompt"] == "login":
            if form.types.get("login") not in ("text", "email") or form.types.get("password") != "password":
                raise AssertionError(f"the login form lacks login/password inputs\n{_snippet(response)}")
            data.update(login=login, password=password)
            logged_in = True
        if form.method != "post" or not form.action:
            raise AssertionError(f"unexpected form (method={form.method!r}, action={form.action!r})\n"
                                 f"{_snippet(response)}")
        response = client.post(urljoin(str(response.url), form.action), data=data, follow_redirects=False)
        if not response.is_redirect:
            raise AssertionError(
                f"submitting the {data['prompt']} form did not redirect\n{_snippet(response)}")
        url = urljoin(str(response.url), response.headers["location"])
    raise AssertionError(f"no redirect to {callback_prefix} after {_MAX_STEPS} steps; last URL {url}")
