"""Accounts by email, as use cases over real SQLite and PostgreSQL, with a clock the test moves.

Mail goes through the real outbox and the embedded .eml mailer; each test
runs the worker itself, so what was committed and what was sent are both seen.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.models import ClientInfo, User
from authd.errors import (
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidEmailToken,
    InvalidRequest,
    RateLimited,
)
from authd.wiring import Services, build_services

WHO = ClientInfo(ip="203.0.113.7", user_agent="test")
PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "another horse battery staple 43"


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path
                   ) -> AsyncIterator[tuple[Services, FixedClock]]:
    """The real services over SQLite and PostgreSQL, mail written as .eml files."""
    database_url = request.getfixturevalue("fresh_pg_url") if request.param == "postgres" else None
    clock = FixedClock()
    extra: dict[str, Any] = getattr(request, "param_settings", {})
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url,
                                        issuer="https://id.example", **extra), clock)
    try:
        yield svc, clock
    finally:
        await svc.close()


async def _mail(svc: Services, to: str, about: str = "") -> list[EmailMessage]:
    """Deliver what is due; the messages to ``to`` whose subject contains ``about``."""
    assert svc.mail_worker is not None
    while await svc.mail_worker.run_once():
        pass
    found = []
    for path in sorted((svc.settings.data_dir / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"] == to and about.lower() in message["Subject"].lower():
            found.append(message)
    return found


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _token(message: EmailMessage) -> str:
    match = re.search(r"token=([A-Za-z0-9_-]+)", _text(message))
    assert match
    return match.group(1)


async def _sign_up(svc: Services, address: str = "ada@example.com", locale: str | None = None) -> User:
    return await svc.accounts.sign_up(address, PASSWORD, "Ada", WHO, locale)


def _email(svc: Services) -> Any:
    assert svc.email is not None
    return svc.email


async def test_sign_up_mails_a_link_that_verifies_once(services: tuple[Services, FixedClock]) -> None:
    """The sign-up mail's link verifies the address; the same link a second time is refused."""
    svc, _ = services
    user = await _sign_up(svc)
    [mail] = await _mail(svc, user.email)
    token = _token(mail)
    assert (await _email(svc).verify(token, WHO)).id == user.id
    assert (await svc.store.users.get_user(user.id)).email_verified
    with pytest.raises(InvalidEmailToken):
        await _email(svc).verify(token, WHO)


async def test_links_point_at_the_issuer_and_carry_256_bits(services: tuple[Services, FixedClock]) -> None:
    """Links open the issuer's verification page, and the token has at least 256 bits."""
    svc, _ = services
    user = await _sign_up(svc)
    [mail] = await _mail(svc, user.email)
    assert "https://id.example/verify-email?token=" in _text(mail)
    assert len(_token(mail)) >= 43


async def test_tokens_are_stored_only_as_digests_and_the_outbox_is_scrubbed(
        services: tuple[Services, FixedClock]) -> None:
    """Neither the token table nor a delivered outbox row holds the token in a readable form."""
    svc, _ = services
    user = await _sign_up(svc)

    def raw(c: Any) -> list[Any]:
        return [*c.execute(text("SELECT * FROM email_tokens")).all(),
                *c.execute(text("SELECT * FROM outbox")).all()]
    before = await svc.store.db.read(raw)
    [mail] = await _mail(svc, user.email)
    token = _token(mail).encode()
    assert all(token not in repr(row).encode() for row in before)
    after = await svc.store.db.read(lambda c: c.execute(text("SELECT payload FROM outbox")).all())
    assert [row.payload for row in after] == [None]


async def test_expired_tokens_are_refused(services: tuple[Services, FixedClock]) -> None:
    """A verification link older than 24 h no longer verifies."""
    svc, clock = services
    user = await _sign_up(svc)
    [mail] = await _mail(svc, user.email)
    clock.advance(24 * 3600 + 1)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).verify(_token(mail), WHO)


async def test_a_token_is_bound_to_its_purpose(services: tuple[Services, FixedClock]) -> None:
    """A verification token cannot reset a password, nor a reset token confirm an email change."""
    svc, _ = services
    user = await _sign_up(svc)
    [mail] = await _mail(svc, user.email)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).reset_password(_token(mail), NEW_PASSWORD, WHO)
    await _email(svc).forgot_password(user.email, None, WHO)
    [reset] = await _mail(svc, user.email, "reset")
    with pytest.raises(InvalidEmailToken):
        await _email(svc).confirm_email(_token(reset), WHO)


@pytest.mark.parametrize("garbage", ["", "x" * 500, None, 12, ["a"], "no-such-token"])
async def test_garbage_tokens_are_invalid(services: tuple[Services, FixedClock], garbage: object) -> None:
    """Anything that is not a live token is one 400 invalid_token answer."""
    svc, _ = services
    with pytest.raises(InvalidEmailToken):
        await _email(svc).verify(garbage, WHO)


async def test_reset_sets_the_password_ends_sessions_and_voids_other_resets(
        services: tuple[Services, FixedClock]) -> None:
    """A reset sets the password, verifies the address, ends every session, mails a notice,
    and every other outstanding reset link of the user is void."""
    svc, clock = services
    user = await _sign_up(svc)
    pair = await svc.tokens.start_family(user, "authd", "openid", "https://id.example", WHO,
                                         amr=["email"])
    await _email(svc).forgot_password(user.email, None, WHO)
    clock.advance(1)
    await _email(svc).forgot_password(user.email, None, WHO)
    first, second = (_token(m) for m in await _mail(svc, user.email, "reset"))
    clock.advance(1)
    await _email(svc).reset_password(second, NEW_PASSWORD, WHO)
    assert (await svc.accounts.authenticate(user.email, NEW_PASSWORD, WHO)).email_verified
    with pytest.raises(InvalidCredentials):
        await svc.accounts.authenticate(user.email, PASSWORD, WHO)
    assert await svc.store.families.list_families(user.id, clock.now()) == []
    assert svc.revocations.denylist is not None and pair.refresh_token
    with pytest.raises(InvalidEmailToken):
        await _email(svc).reset_password(first, NEW_PASSWORD + "x", WHO)
    assert await _mail(svc, user.email, "password was changed")


async def test_a_refused_password_leaves_the_reset_link_usable(services: tuple[Services, FixedClock]) -> None:
    """The policy is checked before the link is used: a weak password does not burn it."""
    svc, _ = services
    user = await _sign_up(svc)
    await _email(svc).forgot_password(user.email, None, WHO)
    token = _token((await _mail(svc, user.email, "reset"))[-1])
    with pytest.raises(InvalidRequest):
        await _email(svc).reset_password(token, "short", WHO)
    await _email(svc).reset_password(token, NEW_PASSWORD, WHO)


async def test_a_password_change_voids_outstanding_links(services: tuple[Services, FixedClock]) -> None:
    """A reset link mailed before the password changed no longer works afterwards."""
    svc, clock = services
    user = await _sign_up(svc)
    await _email(svc).forgot_password(user.email, None, WHO)
    token = _token((await _mail(svc, user.email, "reset"))[-1])
    clock.advance(5)
    await svc.accounts.change_password(user.id, PASSWORD, NEW_PASSWORD, WHO)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).reset_password(token, PASSWORD + " again", WHO)


async def test_forgot_for_an_unknown_address_sends_nothing_but_does_the_same_work(
        services: tuple[Services, FixedClock]) -> None:
    """An unknown address gets no mail, yet one outbox row is written as for a known one."""
    svc, _ = services
    await _email(svc).forgot_password("nobody@example.com", None, WHO)
    assert await svc.store.db.read(lambda c: c.execute(text("SELECT count(*) FROM outbox")).scalar()) == 1
    assert await _mail(svc, "nobody@example.com") == []


async def test_an_address_is_mailed_a_few_times_an_hour_at_most(
        services: tuple[Services, FixedClock]) -> None:
    """Past the per-address quota the request is refused with a Retry-After, known or not."""
    svc, clock = services
    user = await _sign_up(svc)
    for _ in range(svc.settings.mail.per_address_per_hour):
        await _email(svc).forgot_password(user.email, None, WHO)
    with pytest.raises(RateLimited) as known:
        await _email(svc).forgot_password(user.email, None, WHO)
    for _ in range(svc.settings.mail.per_address_per_hour):
        await _email(svc).start_sign_in("ghost@example.com", None, WHO)
    with pytest.raises(RateLimited):
        await _email(svc).start_sign_in("ghost@example.com", None, WHO)
    assert known.value.retry_after > 0
    clock.advance(3601)
    await _email(svc).forgot_password(user.email, None, WHO)


async def test_email_change_confirms_the_new_address_and_notifies_the_old(
        services: tuple[Services, FixedClock]) -> None:
    """The link goes to the new address, a notice to the old; confirming sets it, verified."""
    svc, _ = services
    user = await _sign_up(svc)
    await _email(svc).change_email(user.id, "ada@new.example", None, WHO)
    [confirm] = await _mail(svc, "ada@new.example")
    assert "ada@new.example" in _text((await _mail(svc, user.email, "being changed"))[-1])
    changed = await _email(svc).confirm_email(_token(confirm), WHO)
    assert (changed.email, changed.email_verified) == ("ada@new.example", True)


async def test_email_change_to_a_taken_address_is_a_conflict(services: tuple[Services, FixedClock]) -> None:
    """If the address was taken between the request and the confirmation, 409 email_taken."""
    svc, _ = services
    user = await _sign_up(svc)
    await _email(svc).change_email(user.id, "taken@example.com", None, WHO)
    [confirm] = await _mail(svc, "taken@example.com")
    await _sign_up(svc, "taken@example.com")
    with pytest.raises(EmailTaken):
        await _email(svc).confirm_email(_token(confirm), WHO)


async def _mailed_code(svc: Services, email: str) -> str:
    """Ask for a sign-in code for ``email`` and read the six digits from the mail."""
    await _email(svc).start_sign_in(email, None, WHO)
    code = re.search(r"\b(\d{6})\b", _text((await _mail(svc, email, "sign-in code"))[-1]))
    assert code
    return code.group(1)


async def test_sign_in_code_logs_in_and_verifies(services: tuple[Services, FixedClock]) -> None:
    """The six-digit code logs the account in once and proves its address."""
    svc, _ = services
    user = await _sign_up(svc)
    code = await _mailed_code(svc, user.email)
    signed_in = await _email(svc).sign_in_with_code(user.email, code, WHO)
    assert signed_in.id == user.id and signed_in.email_verified
    with pytest.raises(InvalidEmailToken):
        await _email(svc).sign_in_with_code(user.email, code, WHO)


async def test_five_wrong_codes_void_the_code(services: tuple[Services, FixedClock]) -> None:
    """After five wrong guesses even the right code is refused: no brute force of six digits."""
    svc, _ = services
    user = await _sign_up(svc)
    code = await _mailed_code(svc, user.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(InvalidEmailToken):
            await _email(svc).sign_in_with_code(user.email, wrong, WHO)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).sign_in_with_code(user.email, code, WHO)


async def test_a_code_is_bound_to_its_address(services: tuple[Services, FixedClock]) -> None:
    """The code mailed to one address does not sign in another."""
    svc, _ = services
    ada, bob = await _sign_up(svc), await _sign_up(svc, "bob@example.com")
    code = await _mailed_code(svc, ada.email)
    await _email(svc).start_sign_in(bob.email, None, WHO)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).sign_in_with_code(bob.email, code, WHO)


async def test_sign_in_link_expires_after_ten_minutes(services: tuple[Services, FixedClock]) -> None:
    """The sign-in link is refused once its 10 minutes are over."""
    svc, clock = services
    user = await _sign_up(svc)
    await _email(svc).start_sign_in(user.email, None, WHO)
    token = _token((await _mail(svc, user.email, "sign-in code"))[-1])
    clock.advance(601)
    with pytest.raises(InvalidEmailToken):
        await _email(svc).sign_in_with_token(token, WHO)


async def test_without_the_pages_links_name_the_api(tmp_path: Path) -> None:
    """With the hosted pages off and no [mail.links], a link names the API endpoint."""
    svc = await build_services(Settings(data_dir=tmp_path, issuer="https://id.example",
                                        ui={"enabled": False}), FixedClock())
    try:
        user = await _sign_up(svc)
        [mail] = await _mail(svc, user.email)
        assert "https://id.example/v1/email/verify?token=" in _text(mail)
    finally:
        await svc.close()


async def test_require_verified_email_refuses_a_right_password(tmp_path: Path) -> None:
    """With require_verified_email, an unverified account's right password is refused, a wrong one
    is still just wrong; after verification the login works."""
    clock = FixedClock()
    svc = await build_services(Settings(data_dir=tmp_path, require_verified_email=True), clock)
    try:
        user = await _sign_up(svc)
        with pytest.raises(InvalidCredentials):
            await svc.accounts.authenticate(user.email, "wrong password here", WHO)
        with pytest.raises(EmailNotVerified):
            await svc.accounts.authenticate(user.email, PASSWORD, WHO)
        await _email(svc).verify(_token((await _mail(svc, user.email))[0]), WHO)
        await svc.accounts.authenticate(user.email, PASSWORD, WHO)
    finally:
        await svc.close()


async def test_mail_follows_the_sign_up_locale(services: tuple[Services, FixedClock]) -> None:
    """An account signed up with locale ko gets its mail in Korean, plain text and HTML."""
    svc, _ = services
    user = await _sign_up(svc, locale="ko-KR")
    [mail] = await _mail(svc, user.email)
    assert "이메일" in mail["Subject"]
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and "이메일" in str(html.get_content())


async def test_linking_and_unlinking_an_identity_mails_a_notice(
        services: tuple[Services, FixedClock]) -> None:
    """A user learns by mail when a social identity is linked to or unlinked from the account."""
    svc, _ = services
    user = await _sign_up(svc)
    await svc.identity_links.link(user.id, "acme", "subject-1", None, WHO)
    assert await _mail(svc, user.email, "was linked")
    await svc.identity_links.unlink(user.id, "acme", WHO)
    assert await _mail(svc, user.email, "was unlinked")


async def test_link_redemptions_are_limited_per_ip(tmp_path: Path) -> None:
    """One IP presenting link after link (each a database write) is stopped with a Retry-After."""
    svc = await build_services(Settings(data_dir=tmp_path, mail={"requests_per_ip": 1}), FixedClock())
    try:
        for _ in range(10):
            with pytest.raises(InvalidEmailToken):
                await _email(svc).verify("not-a-token", WHO)
        with pytest.raises(RateLimited):
            await _email(svc).verify("not-a-token", WHO)
    finally:
        await svc.close()
