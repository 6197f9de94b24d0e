"""Social-login account rules and one-time codes, over real SQLite and PostgreSQL, with a fixed clock."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.ids import b64url, new_id
from authd.core.models import ClientInfo, Identity, User
from authd.core.social import CODE_TTL, decide_link
from authd.core.social_models import PENDING_TTL, Profile, state_key
from authd.errors import InvalidGrant, LoginRefused
from authd.wiring import Services, build_services

WHO = ClientInfo(ip="203.0.113.9", user_agent="test")


def _user(email: str = "a@example.com", verified: bool = True, disabled: bool = False) -> User:
    return User(id=new_id(), email=email, email_verified=verified, name=None, password_hash=None,
                disabled=disabled, created_at=0.0)


# -- the rules, as a pure function ---------------------------------------------------------


def test_a_linked_identity_wins_whatever_the_email_says() -> None:
    """A returning user is found by (provider, subject), even if the provider now reports another email."""
    linked = _user("old@example.com")
    assert decide_link("new@example.com", False, linked=linked, same_email=None,
                       link_by_verified_email=False).user == linked


@pytest.mark.parametrize(("email", "verified"), [(None, True), ("a@example.com", False)])
def test_no_account_without_a_verified_email(email: str | None, verified: bool) -> None:
    """No account is created from a login without an email or with an unverified one."""
    with pytest.raises(LoginRefused):
        decide_link(email, verified, linked=None, same_email=None, link_by_verified_email=True)


@pytest.mark.parametrize(("allowed", "existing_verified", "disabled", "joins"), [
    (True, True, False, True),
    (False, True, False, False),  # config says no
    (True, False, False, False),  # a password sign-up proves nothing about the mailbox
    (True, True, True, False),  # disabled accounts stay closed
])
def test_joining_by_email(allowed: bool, existing_verified: bool, disabled: bool, joins: bool) -> None:
    """An existing account is joined by email only if the config allows it, its email was proven, and it is
    enabled."""
    existing = _user(verified=existing_verified, disabled=disabled)
    if joins:
        link = decide_link("a@example.com", True, linked=None, same_email=existing,
                           link_by_verified_email=allowed)
        assert (link.action, link.user) == ("join", existing)
    else:
        with pytest.raises(LoginRefused):
            decide_link("a@example.com", True, linked=None, same_email=existing,
                        link_by_verified_email=allowed)


def test_no_join_when_the_account_already_has_an_identity_at_that_provider() -> None:
    """A second subject with the account's email at the same provider: the address was reassigned."""
    with pytest.raises(LoginRefused, match="another account at this provider"):
        decide_link("a@example.com", True, linked=None, same_email=_user(),
                    link_by_verified_email=True, same_email_has_provider=True)


def test_a_disabled_linked_account_is_refused() -> None:
    """A disabled account stays closed to social login too."""
    with pytest.raises(LoginRefused):
        decide_link("a@example.com", True, linked=_user(disabled=True), same_email=None,
                    link_by_verified_email=False)


# -- over the real stores ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest,
                   tmp_path: Path) -> AsyncIterator[tuple[Services, FixedClock]]:
    """The real services over SQLite and PostgreSQL, with a clock the test moves."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("fresh_pg_url")
    clock = FixedClock()
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url), clock)
    try:
        yield svc, clock
    finally:
        await svc.close()


def _profile(subject: str | None = None, email: str | None = None) -> Profile:
    return Profile("acme", subject or secrets.token_hex(4), email or f"{secrets.token_hex(4)}@example.com",
                   True, "Ada")


async def test_first_login_creates_then_finds_the_user(services: tuple[Services, FixedClock]) -> None:
    """A first social login creates a verified, passwordless user; the next login finds the same one."""
    svc, _ = services
    profile = _profile()
    first = await svc.social.sign_in(profile, link_by_verified_email=False, client=WHO)
    again = await svc.social.sign_in(profile, link_by_verified_email=False, client=WHO)
    assert first.id == again.id and first.email_verified and first.password_hash is None


async def test_concurrent_first_logins_make_one_user(services: tuple[Services, FixedClock]) -> None:
    """Simultaneous first logins of one identity create exactly one user."""
    svc, _ = services
    profile = _profile()
    users = await asyncio.gather(*(svc.social.sign_in(profile, link_by_verified_email=False, client=WHO)
                                   for _ in range(4)))
    assert len({u.id for u in users}) == 1


async def test_a_first_login_committed_between_the_lookups_is_found(
        services: tuple[Services, FixedClock], monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving behind the race above, forced: this request finds no identity, then the
    concurrent first login of the same identity commits, then this request finds its email."""
    svc, _ = services
    profile = _profile()
    identities = svc.social._identities
    real_find = identities.find_identity
    concurrent: list[User] = []

    async def find_then_let_the_other_request_commit(provider: str, subject: str) -> object:
        found = await real_find(provider, subject)
        if found is None and not concurrent:
            monkeypatch.setattr(identities, "find_identity", real_find)
            concurrent.append(await svc.social.sign_in(profile, link_by_verified_email=False,
                                                       client=WHO))
        return found

    monkeypatch.setattr(identities, "find_identity", find_then_let_the_other_request_commit)
    user = await svc.social.sign_in(profile, link_by_verified_email=False, client=WHO)
    assert concurrent and user.id == concurrent[0].id


async def test_pending_login_is_handed_out_once_and_expires(services: tuple[Services, FixedClock]) -> None:
    """A pending login (the state) is handed out once and not after it expires; garbage states find nothing.
    """
    svc, clock = services
    pending = await svc.social.begin("acme", "https://app.example/cb", "session")
    taken = await svc.social.take(pending.state)
    assert taken == pending
    assert await svc.social.take(pending.state) is None
    late = await svc.social.begin("acme", "https://app.example/cb", "token")
    clock.advance(PENDING_TTL + 1)
    assert await svc.social.take(late.state) is None
    assert await svc.social.take(None) is None and await svc.social.take("x" * 600) is None


async def _pending_rows(svc: Services) -> dict[str, bytes]:
    from sqlalchemy import select

    from authd.storage.sql.tables import pending_logins

    rows = await svc.store.db.read(lambda c: c.execute(select(pending_logins)).all())
    return {row.key: bytes(row.record) for row in rows}


async def test_pending_logins_are_sealed_at_rest(services: tuple[Services, FixedClock]) -> None:
    """A copy of the pending-logins table (backup, replica, dump) holds no state, nonce, PKCE
    verifier or browser binding, so it cannot finish a login in flight; the login still works."""
    svc, _ = services
    pending = await svc.social.begin("acme", "https://app.example/cb", "session")
    started = await svc.identity_links.start("user-4711", "acme", "https://app.example/cb")
    assert started.verifier is not None  # a Bearer caller's ticket: its verifier is a secret too
    stored = b"".join((await _pending_rows(svc)).values())
    for secret in (pending.state, pending.nonce, pending.code_verifier, pending.browser_binding,
                   "https://app.example/cb", "user-4711", started.ticket, started.verifier):
        assert secret.encode() not in stored, secret
    assert await svc.social.take(pending.state) == pending
    assert (await svc.identity_links.take(started.ticket, "acme")).user_id == "user-4711"


async def test_a_sealed_pending_login_does_not_open_on_another_row(
        services: tuple[Services, FixedClock]) -> None:
    """Someone who can write the table cannot move a pending login (with its nonce, verifier and
    binding) under a state they know: a record opens only under its own row key."""
    from sqlalchemy import update

    from authd.storage.sql.tables import pending_logins

    svc, _ = services
    victim = await svc.social.begin("acme", "https://app.example/cb", "session")
    attacker = await svc.social.begin("acme", "https://app.example/cb", "session")
    rows = await _pending_rows(svc)
    victim_key = next(k for k in rows if k != state_key(attacker.state))

    def swap(c: Any) -> None:
        c.execute(update(pending_logins).where(pending_logins.c.key == state_key(attacker.state))
                  .values(record=rows[victim_key]))
    await svc.store.db.write(swap)
    assert await svc.social.take(attacker.state) is None
    assert await svc.social.take(victim.state) == victim


async def _code(svc: Services, challenge: str | None = None) -> tuple[str, User]:
    user = await svc.social.sign_in(_profile(), link_by_verified_email=False, client=WHO)
    return await svc.social.issue_code(user, "authd", challenge), user


async def test_one_time_code_expires_after_60_seconds(services: tuple[Services, FixedClock]) -> None:
    """A one-time code is refused once its 60 s are over."""
    svc, clock = services
    code, _ = await _code(svc)
    clock.advance(CODE_TTL + 1)
    with pytest.raises(InvalidGrant):
        await svc.social.exchange_code(code, "authd", None, "openid", svc.settings.audience, WHO)


async def test_one_time_code_is_bound_to_its_client(services: tuple[Services, FixedClock]) -> None:
    """A one-time code can only be exchanged by the client it was issued for."""
    svc, _ = services
    code, _ = await _code(svc)
    with pytest.raises(InvalidGrant):
        await svc.social.exchange_code(code, "another-client", None, "openid", svc.settings.audience, WHO)


async def test_codes_are_stored_only_as_hashes(services: tuple[Services, FixedClock]) -> None:
    """The database holds only SHA-256 digests of one-time codes: a leak reveals no usable code."""
    svc, _ = services
    code, _ = await _code(svc)
    from sqlalchemy import select

    from authd.storage.sql.tables import one_time_codes
    rows = await svc.store.db.read(lambda c: c.execute(select(one_time_codes)).all())
    stored = [bytes(r.code_hash) for r in rows]
    assert hashlib.sha256(code.encode()).digest() in stored
    assert all(code not in str(value) for row in rows for value in row)


async def test_replay_revokes_the_family_of_the_first_exchange(services: tuple[Services, FixedClock]) -> None:
    """Replaying a code revokes the refresh family the first exchange issued."""
    svc, _ = services
    verifier = secrets.token_urlsafe(48)
    code, user = await _code(svc, b64url(hashlib.sha256(verifier.encode()).digest()))
    pair = await svc.social.exchange_code(code, "authd", verifier, "openid", svc.settings.audience, WHO)
    with pytest.raises(InvalidGrant):
        await svc.social.exchange_code(code, "authd", verifier, "openid", svc.settings.audience, WHO)
    with pytest.raises(InvalidGrant):
        await svc.tokens.refresh(pair.refresh_token, "authd", None, WHO)
    assert await svc.store.families.list_families(user.id, svc.clock.now()) == []


async def test_concurrent_exchanges_yield_one_pair(services: tuple[Services, FixedClock]) -> None:
    """Racing exchanges of one code yield one token pair; the rest get invalid_grant."""
    svc, _ = services
    code, _ = await _code(svc)
    results = await asyncio.gather(*(svc.social.exchange_code(code, "authd", None, "openid",
                                                              svc.settings.audience, WHO)
                                     for _ in range(5)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, InvalidGrant) for r in results if isinstance(r, BaseException))


async def test_concurrent_unlinks_never_leave_an_account_without_a_way_in(
        services: tuple[Services, FixedClock]) -> None:
    """A social-only account with two identities; both unlinked at once: one goes, one stays."""
    svc, clock = services
    user = await svc.social.sign_in(_profile(), link_by_verified_email=False, client=WHO)
    await svc.store.identities.add_identity(Identity("other", "s-1", user.id, None, clock.now()))
    results = await asyncio.gather(svc.identity_links.unlink(user.id, "acme", WHO),
                                   svc.identity_links.unlink(user.id, "other", WHO),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "NoneType"]
    assert len(await svc.identity_links.list(user.id)) == 1


async def _with_totp(svc: Services, clock: FixedClock) -> User:
    """A social user who turned TOTP on (so the gate asks them for it)."""
    import pyotp
    user = await svc.social.sign_in(_profile(), link_by_verified_email=False, client=WHO)
    enrolment = await svc.second_factors.begin_totp(user.id)
    await svc.second_factors.confirm_totp(user.id, pyotp.TOTP(enrolment.secret).at(clock.now()),
                                          WHO)
    return user


def _amr_of(access_token: str) -> list[str]:
    """The amr claim of an access token authd issued."""
    import base64

    import orjson
    payload = access_token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    found: list[str] = claims["amr"]
    return found


async def test_a_code_from_a_finished_second_step_is_not_gated_again(
        services: tuple[Services, FixedClock]) -> None:
    """A code the hosted pages issued after /mfa (amr with "mfa") gives tokens at once, and the
    tokens say how the person signed in, not "fed"."""
    svc, clock = services
    user = await _with_totp(svc, clock)
    code = await svc.social.issue_code(user, "authd", None, methods=("pwd", "otp", "mfa"))
    pair = await svc.social.exchange_code(code, "authd", None, "openid", svc.settings.audience,
                                          WHO)
    assert _amr_of(pair.access_token) == ["pwd", "otp", "mfa"]


@pytest.mark.parametrize("methods", [("fed",), ("pwd",)])
async def test_a_code_without_a_second_step_still_meets_the_gate(
        services: tuple[Services, FixedClock], methods: tuple[str, ...]) -> None:
    """A social login's code (or any code whose login did not do the second step) of a user
    with TOTP answers mfa_required at the exchange: the code alone never yields tokens."""
    from authd.errors import MfaRequired
    svc, clock = services
    user = await _with_totp(svc, clock)
    code = await svc.social.issue_code(user, "authd", None, methods=methods)
    with pytest.raises(MfaRequired):
        await svc.social.exchange_code(code, "authd", None, "openid", svc.settings.audience, WHO)


async def test_a_pages_password_code_carries_pwd(services: tuple[Services, FixedClock]) -> None:
    """A password login's code of a user without a second factor gives tokens with amr pwd."""
    svc, _ = services
    user = await svc.social.sign_in(_profile(), link_by_verified_email=False, client=WHO)
    code = await svc.social.issue_code(user, "authd", None, methods=("pwd",))
    pair = await svc.social.exchange_code(code, "authd", None, "openid", svc.settings.audience,
                                          WHO)
    assert _amr_of(pair.access_token) == ["pwd"]
    old = await svc.social.issue_code(user, "authd", None)
    pair = await svc.social.exchange_code(old, "authd", None, "openid", svc.settings.audience,
                                          WHO)
    assert _amr_of(pair.access_token) == ["fed"]
