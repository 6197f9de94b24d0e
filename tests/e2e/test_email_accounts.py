"""Accounts by email end to end: a real authd process per backend delivering to a real SMTP server.

The SMTP server (aiosmtpd, tests/peers/smtp_sink.py) runs in its own process
on loopback; tests read the mail it accepted, follow its links and codes over
HTTP, and stop it to show that an outage delays mail but never fails a request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import drop_pg_database
from tests.e2e.conftest import (
    PASSWORD,
    bearer,
    login,
    new_email,
    refresh,
    serving,
    sign_up,
    start_server,
)
from tests.peers.smtp_sink import SmtpSink, html_of, text_of, token_in
from tests.serverproc import AuthdServer

NEW_PASSWORD = "a longer and newer passphrase 7"
EMAIL_CODE = "urn:authd:params:oauth:grant-type:email-code"


def mail_env(sink: SmtpSink, **extra: str) -> dict[str, str]:
    """Deliver to ``sink``, polling the outbox often so tests need not wait."""
    return {"AUTHD_MAIL__SMTP_URL": sink.url, "AUTHD_MAIL__POLL_INTERVAL": "0.1",
            "AUTHD_MAIL__PRODUCT_NAME": "Acme", **extra}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mailed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[AuthdServer, SmtpSink]]:
    """An authd per backend, sending to its own SMTP server."""
    tmp = tmp_path_factory.mktemp(f"mail-{request.param}")
    with SmtpSink(tmp / "mailbox") as sink:
        server, url = start_server(tmp / "authd", request.param, env=mail_env(sink))
        try:
            yield server, sink
        finally:
            server.stop()
            if url:
                drop_pg_database(url)


@pytest.fixture
def http(mailed: tuple[AuthdServer, SmtpSink]) -> Iterator[httpx.Client]:
    """A client of the mailing server."""
    with mailed[0].client() as client:
        yield client


@pytest.fixture
def sink(mailed: tuple[AuthdServer, SmtpSink]) -> SmtpSink:
    """The mailing server's SMTP server."""
    return mailed[1]


def _about(sink: SmtpSink, to: str, word: str, count: int = 1) -> list[str]:
    """Plain-text bodies of the first ``count`` messages to ``to`` whose subject has ``word``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [m for m in sink.messages(to) if word.lower() in m["Subject"].lower()]
        if len(found) >= count:
            return [text_of(m) for m in found]
        time.sleep(0.05)
    raise AssertionError(f"no {word!r} mail to {to}")


def _token(body: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_%-]+)", body)
    assert match
    return match.group(1)


def test_sign_up_mail_verifies_the_address_once(http: httpx.Client, sink: SmtpSink) -> None:
    """Sign-up mails a link (text and HTML parts) whose token verifies the address exactly once."""
    email = sign_up(http)
    [message] = sink.wait_for(email)
    assert "Acme" in message["Subject"] and "token=" in html_of(message)
    token = token_in(message)
    answer = http.post("/v1/email/verify", json={"token": token})
    assert answer.status_code == 200 and answer.json() == {"email_verified": True}
    again = http.post("/v1/email/verify", json={"token": token})
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"
    userinfo = http.get("/v1/userinfo", headers=bearer(login(http, email)["access_token"]))
    assert userinfo.json()["email_verified"] is True


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 7}, {"token": "x" * 5000},
                                  {"token": ["a"]}, {"token": "not-a-token"}])
def test_garbage_tokens_get_a_clear_400(http: httpx.Client, body: dict[str, object]) -> None:
    """Missing, empty, oversized or made-up tokens are 400s, never 500s."""
    for path in ("/v1/email/verify", "/v1/email/confirm"):
        answer = http.post(path, json=body)
        assert answer.status_code == 400, answer.text


def test_password_reset_ends_every_session_and_mails_a_notice(http: httpx.Client, sink: SmtpSink) -> None:
    """A reset link sets the new password, revokes every refresh family, and mails a notice."""
    email = sign_up(http)
    tokens = login(http, email)
    assert http.post("/v1/password/forgot", json={"email": email}).status_code == 202
    [reset] = _about(sink, email, "reset")
    answer = http.post("/v1/password/reset", json={"token": _token(reset), "new_password": NEW_PASSWORD})
    assert answer.status_code == 200, answer.text
    assert refresh(http, tokens["refresh_token"]).status_code == 400
    login(http, email, NEW_PASSWORD)
    _about(sink, email, "password was changed")
    reuse = http.post("/v1/password/reset", json={"token": _token(reset), "new_password": PASSWORD})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_token"


def test_forgot_and_sign_in_answer_the_same_for_unknown_addresses(http: httpx.Client) -> None:
    """Known and unknown addresses get the same status and body: nothing says which exist."""
    known = sign_up(http)
    for path in ("/v1/password/forgot", "/v1/email/sign-in"):
        answers = [http.post(path, json={"email": address})
                   for address in (known, new_email())]
        assert {(a.status_code, a.text) for a in answers} == {(202, "{}")}


def test_links_ignore_the_host_header(http: httpx.Client, mailed: tuple[AuthdServer, SmtpSink],
                                      sink: SmtpSink) -> None:
    """A forged Host or X-Forwarded-Host never reaches a mailed link: links name the issuer."""
    email = sign_up(http)
    answer = http.post("/v1/password/forgot", json={"email": email},
                       headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert answer.status_code == 202
    [reset] = _about(sink, email, "reset")
    assert "evil.example" not in reset
    assert f"{mailed[0].url}/reset-password?token=" in reset


def test_sign_in_code_at_the_token_endpoint(http: httpx.Client, sink: SmtpSink) -> None:
    """The mailed six-digit code is redeemed once for a token pair with the email-code grant."""
    email = sign_up(http)
    assert http.post("/v1/email/sign-in", json={"email": email}).status_code == 202
    [message] = _about(sink, email, "sign-in code")
    code = code_in_text(message)
    grant = {"grant_type": EMAIL_CODE, "email": email, "code": code}
    first = http.post("/v1/token", data=grant)
    assert first.status_code == 200, first.text
    again = http.post("/v1/token", data=grant)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_sign_in_link_at_the_session_endpoint(http: httpx.Client, sink: SmtpSink) -> None:
    """The sign-in link's token starts a cookie session and proves the address."""
    email = sign_up(http)
    http.post("/v1/email/sign-in", json={"email": email})
    [message] = _about(sink, email, "sign-in code")
    answer = http.post("/v1/session", json={"token": _token(message)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["email_verified"] is True


def test_five_wrong_codes_void_the_code(http: httpx.Client, sink: SmtpSink) -> None:
    """Guessing a code: after five wrong tries the right code is refused too."""
    email = sign_up(http)
    http.post("/v1/email/sign-in", json={"email": email})
    code = code_in_text(_about(sink, email, "sign-in code")[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = http.post("/v1/session", json={"email": email, "code": wrong})
        assert answer.status_code == 400
    answer = http.post("/v1/session", json={"email": email, "code": code})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_token"


def test_email_change_confirms_at_the_new_address(http: httpx.Client, sink: SmtpSink) -> None:
    """A recently signed-in user changes the address: link to the new one, notice to the old one."""
    email, new = sign_up(http), new_email()
    access = login(http, email)["access_token"]
    answer = http.post("/v1/email", json={"new_email": new}, headers=bearer(access))
    assert answer.status_code == 202, answer.text
    [confirm] = _about(sink, new, "new email address")
    _about(sink, email, "being changed")
    done = http.post("/v1/email/confirm", json={"token": _token(confirm)})
    assert done.status_code == 200 and done.json() == {"email": new, "email_verified": True}
    login(http, new)


def test_mail_speaks_korean_when_asked(http: httpx.Client, sink: SmtpSink) -> None:
    """Sign-up's locale (here from Accept-Language) picks the language of the account's mail."""
    email = new_email()
    answer = http.post("/v1/users", json={"email": email, "password": PASSWORD},
                       headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    assert answer.status_code == 201
    [message] = sink.wait_for(email)
    assert "이메일" in message["Subject"] and "이메일" in html_of(message)


def test_a_flood_for_one_address_gets_429(http: httpx.Client) -> None:
    """One address is mailed a few times an hour at most: then 429 with Retry-After."""
    email = new_email()
    answers = [http.post("/v1/password/forgot", json={"email": email}) for _ in range(8)]
    assert answers[0].status_code == 202
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0


def test_discovery_lists_the_email_code_grant(http: httpx.Client) -> None:
    """Apps find the email-code grant in the discovery document."""
    assert EMAIL_CODE in http.get("/.well-known/openid-configuration").json()["grant_types_supported"]


def code_in_text(body: str) -> str:
    """The six-digit code in a sign-in mail."""
    match = re.search(r"\b(\d{6})\b", body)
    assert match
    return match.group(1)


# -- outages and crashes: servers of their own ------------------------------------------------


def _forgot_while_mail_is_down(http: httpx.Client, sink: SmtpSink) -> str:
    """Sign up (its verification mail arrives), stop the mail server, ask for a reset: 202."""
    email = sign_up(http)
    sink.wait_for(email)
    sink.stop()
    assert http.post("/v1/password/forgot", json={"email": email}).status_code == 202
    return email


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_smtp_outage_delays_mail_but_fails_no_request(tmp_path: Path, backend: str) -> None:
    """With the mail server down, requests still answer 202; the mail arrives once it is back."""
    with SmtpSink(tmp_path / "mailbox") as sink, \
            serving(tmp_path / "authd", backend, mail_env(sink)) as server, \
            server.client() as http:
        email = _forgot_while_mail_is_down(http, sink)
        sink.start()
        _about(sink, email, "reset")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_loses_no_acknowledged_reset_mail(tmp_path: Path, backend: str) -> None:
    """A reset mail acknowledged with 202 while the mail server was down is delivered after the
    authd process was killed with SIGKILL and started again."""
    with SmtpSink(tmp_path / "mailbox") as sink, \
            serving(tmp_path / "authd", backend, mail_env(sink)) as server:
        with server.client() as http:
            email = _forgot_while_mail_is_down(http, sink)
        server.kill9()
        sink.start()
        server.start()
        [reset] = _about(sink, email, "reset")
        with server.client() as http:
            answer = http.post("/v1/password/reset",
                               json={"token": _token(reset), "new_password": NEW_PASSWORD})
            assert answer.status_code == 200


def test_require_verified_email_refuses_password_logins_until_verified(tmp_path: Path) -> None:
    """require_verified_email: a right password of an unverified account is 400 email_not_verified
    at the token endpoint and 403 at /v1/session; a sign-in code proves the address instead."""
    with SmtpSink(tmp_path / "mailbox") as sink:
        server, _ = start_server(tmp_path / "authd", "sqlite",
                                 env=mail_env(sink, AUTHD_REQUIRE_VERIFIED_EMAIL="true"))
        try:
            with server.client() as http:
                email = sign_up(http)
                token = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                     "password": PASSWORD})
                assert token.status_code == 400 and token.json()["error"] == "email_not_verified"
                session = http.post("/v1/session", json={"email": email, "password": PASSWORD})
                assert session.status_code == 403 and session.json()["error"] == "email_not_verified"
                http.post("/v1/email/sign-in", json={"email": email})
                code = code_in_text(_about(sink, email, "sign-in code")[0])
                assert http.post("/v1/session", json={"email": email, "code": code}).status_code == 200
                login(http, email)
        finally:
            server.stop()


# -- authd mail test ----------------------------------------------------------------------------


def _mail_cli(tmp_path: Path, smtp_url: str | None, address: str = "ops@example.com"
              ) -> tuple[int, str, str]:
    env = {"AUTHD_MAIL__SMTP_URL": smtp_url} if smtp_url else {}
    server = AuthdServer(tmp_path, env={**env, "AUTHD_MAIL__SMTP_TIMEOUT": "5"})
    done = server.cli("mail", "test", address, check=False)
    return done.returncode, done.stdout, done.stderr


def test_mail_test_delivers_through_the_smtp_server(tmp_path: Path) -> None:
    """`authd mail test` sends one message through the configured SMTP server and says so."""
    with SmtpSink(tmp_path / "mailbox") as sink:
        code, out, err = _mail_cli(tmp_path, sink.url)
        assert code == 0, err
        assert "sent a test message" in out
        assert sink.wait_for("ops@example.com")


def test_mail_test_without_smtp_writes_an_eml_file(tmp_path: Path) -> None:
    """Without smtp_url the test message lands as an .eml file in data_dir/outbox/."""
    code, out, _ = _mail_cli(tmp_path, None)
    assert code == 0 and "outbox" in out
    assert list((tmp_path / "outbox").glob("*.eml"))


@pytest.mark.parametrize(("url", "stage"), [
    ("smtp://no-such-host.invalid:587", "dns"),
    ("smtp://127.0.0.1:9?tls=none", "connect"),
])
def test_mail_test_names_what_failed_in_one_sentence(tmp_path: Path, url: str, stage: str) -> None:
    """A name that does not resolve or a port nobody listens on: exit 1 and one line, no traceback."""
    code, _, err = _mail_cli(tmp_path, url)
    assert code == 1
    assert err.strip().count("\n") == 0 and f"({stage})" in err and "Traceback" not in err


def test_mail_test_names_a_server_without_starttls(tmp_path: Path) -> None:
    """A server on 587 that offers no STARTTLS is refused (tls) rather than sent to in clear."""
    with SmtpSink(tmp_path / "mailbox") as sink:
        code, _, err = _mail_cli(tmp_path, f"smtp://127.0.0.1:{sink.port}")
        assert code == 1 and "(tls)" in err and "STARTTLS" in err


@pytest.mark.parametrize("url", ["smtp://mail.example.com:25?tls=none", "http://mail.example.com",
                                 "smtps://"])
def test_a_wrong_smtp_url_is_one_clear_sentence(tmp_path: Path, url: str) -> None:
    """Clear-text SMTP to anything but loopback, or a URL that is no SMTP URL, stops at start-up
    with one line naming mail.smtp_url."""
    server = AuthdServer(tmp_path, env={"AUTHD_MAIL__SMTP_URL": url})
    done = server.cli("config", "check", check=False)
    assert done.returncode == 2 and "mail.smtp_url" in done.stderr and "Traceback" not in done.stderr


def test_a_second_factor_is_asked_after_a_mailed_code_and_changes_are_mailed(
        http: httpx.Client, sink: SmtpSink) -> None:
    """TOTP on mails a notice; then the email-code grant answers mfa_required (no tokens) and
    the mfa grant finishes with amr email+otp+mfa; removing TOTP mails a notice too."""
    import pyotp

    email = sign_up(http)
    headers = bearer(login(http, email)["access_token"])
    phone = pyotp.TOTP(http.post("/v1/mfa/totp", headers=headers).json()["secret"])
    assert http.post("/v1/mfa/totp/confirm", headers=headers,
                     json={"code": phone.at(time.time())}).status_code == 200
    [added] = _about(sink, email, "second factor was added")
    assert "TOTP" in added
    http.post("/v1/email/sign-in", json={"email": email})
    code = code_in_text(_about(sink, email, "sign-in code")[0])
    first = http.post("/v1/token", data={"grant_type": EMAIL_CODE, "email": email, "code": code})
    assert first.status_code == 400 and first.json()["error"] == "mfa_required", first.text
    assert "access_token" not in first.json()
    done = http.post("/v1/token", data={"grant_type": "urn:authd:params:oauth:grant-type:mfa",
                                        "mfa_token": first.json()["mfa_token"],
                                        "otp": phone.at(time.time() + 30)})
    assert done.status_code == 200, done.text
    assert http.get("/v1/sessions", headers=bearer(done.json()["access_token"])
                    ).json()["sessions"][-1]["amr"] == ["email", "otp", "mfa"]
    assert http.delete("/v1/mfa/totp", headers=headers).status_code == 204
    _about(sink, email, "second factor was removed")
