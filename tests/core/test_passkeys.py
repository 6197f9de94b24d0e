"""Passkeys as use cases over real SQLite and PostgreSQL, with a software authenticator and a
clock the test moves: enrolment, passwordless sign-in, the second-factor check, and the attacks
each check is there for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.models import ClientInfo, User
from authd.core.passkeys import Passkeys
from authd.errors import InvalidCredentials, InvalidRequest, NotFound, RateLimited
from authd.wiring import Services, build_services
from tests.webauthn_authenticator import SoftAuthenticator, b64url, tamper

WHO = ClientInfo(ip="203.0.113.9", user_agent="test")
ORIGIN = "https://id.example"
PASSWORD = "correct horse battery staple 42"


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path
                   ) -> AsyncIterator[tuple[Services, FixedClock]]:
    """The real services over SQLite and PostgreSQL, issuer https://id.example, a fixed clock."""
    database_url = request.getfixturevalue("fresh_pg_url") if request.param == "postgres" else None
    clock = FixedClock()
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url,
                                        issuer=ORIGIN, rate_limits={"ip_failures": 5}), clock)
    try:
        yield svc, clock
    finally:
        await svc.close()


def _pk(svc: Services) -> Passkeys:
    return svc.use_cases.passkeys


async def _user(svc: Services, email: str = "ada@example.com") -> User:
    return await svc.accounts.sign_up(email, PASSWORD, "Ada", WHO)


async def _enrol(svc: Services, user: User, device: SoftAuthenticator, **create: Any) -> str:
    """Register one passkey of ``device`` for ``user``; its authd id."""
    challenge = await _pk(svc).registration_options(user.id)
    credential = device.create(challenge.options, **create)
    passkey = await _pk(svc).register(user.id, challenge.challenge_id, credential, "laptop", WHO)
    return passkey.id


async def _sign_in(svc: Services, device: SoftAuthenticator, email: str | None = None,
                   **get: Any) -> User:
    challenge = await _pk(svc).sign_in_options(email, WHO)
    signed_in = await _pk(svc).sign_in(challenge.challenge_id, device.get(challenge.options, **get),
                                       WHO)
    return signed_in.user


async def _events(svc: Services, event: str, user_id: str | None = None) -> list[Any]:
    return list(await svc.store.audit.list_events(user_id=user_id, event=event, limit=50))


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_a_registered_passkey_signs_in_without_a_password(
        services: tuple[Services, FixedClock], alg: str) -> None:
    """An ES256 or EdDSA passkey, once registered, is a whole login: no email, no password."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    passkey_id = await _enrol(svc, user, device, alg=alg)
    assert (await _sign_in(svc, device)).id == user.id
    [listed] = await _pk(svc).list_passkeys(user.id)
    assert (listed.id, listed.name, listed.last_used_at) == (passkey_id, "laptop", svc.clock.now())
    assert await _events(svc, "passkey.added", user.id)
    assert await _events(svc, "login.passkey", user.id)


async def test_registration_asks_for_a_discoverable_credential_and_excludes_the_users_own(
        services: tuple[Services, FixedClock]) -> None:
    """Creation options name the relying party, require a resident key, prefer user verification
    and list the passkeys the user has, so one authenticator is not registered twice."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    options = (await _pk(svc).registration_options(user.id)).options
    assert options["rp"] == {"id": "id.example", "name": "authd"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none"
    assert [c["id"] for c in options["excludeCredentials"]] == [
        b64url(device.credentials[0].credential_id)]


async def test_sign_in_options_do_not_tell_whether_an_account_exists(
        services: tuple[Services, FixedClock]) -> None:
    """For an address with passkeys the options list them; for an unknown address, or one
    without passkeys, they list stand-ins of the same shape, the same each time."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    real = (await _pk(svc).sign_in_options(user.email, WHO)).options
    assert [c["id"] for c in real["allowCredentials"]] == [b64url(device.credentials[0].credential_id)]
    assert real["userVerification"] == "required"
    unknown = (await _pk(svc).sign_in_options("nobody@example.com", WHO)).options
    again = (await _pk(svc).sign_in_options("nobody@example.com", WHO)).options
    assert unknown["allowCredentials"] == again["allowCredentials"]
    assert set(unknown) == set(real)
    assert all(set(c) == {"id", "type", "transports"} and len(c["id"]) == len(
        real["allowCredentials"][0]["id"]) for c in unknown["allowCredentials"])
    await _user(svc, "bob@example.com")
    no_passkeys = (await _pk(svc).sign_in_options("bob@example.com", WHO)).options
    assert no_passkeys["allowCredentials"] and no_passkeys["allowCredentials"] != unknown["allowCredentials"]
    assert (await _pk(svc).sign_in_options(None, WHO)).options.get("allowCredentials", []) == []


async def test_a_challenge_is_used_once(services: tuple[Services, FixedClock]) -> None:
    """Replaying a valid assertion (or any answer to a used challenge) is refused."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    challenge = await _pk(svc).sign_in_options(None, WHO)
    assertion = device.get(challenge.options)
    await _pk(svc).sign_in(challenge.challenge_id, assertion, WHO)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(challenge.challenge_id, assertion, WHO)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(challenge.challenge_id, device.get(challenge.options), WHO)


async def test_a_challenge_expires_after_five_minutes(services: tuple[Services, FixedClock]) -> None:
    """A challenge answered at 4 min 59 s works; one answered at 5 min is refused."""
    svc, clock = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    early = await _pk(svc).sign_in_options(None, WHO)
    late = await _pk(svc).sign_in_options(None, WHO)
    clock.advance(299)
    await _pk(svc).sign_in(early.challenge_id, device.get(early.options), WHO)
    clock.advance(1)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(late.challenge_id, device.get(late.options), WHO)


@pytest.mark.parametrize("bend", [
    {"origin": "https://evil.example"}, {"origin": "http://id.example"},
    {"rp_id": "evil.example"}, {"challenge": b64url(b"x" * 32)}, {"up": False},
])
async def test_an_assertion_from_elsewhere_is_refused(
        services: tuple[Services, FixedClock], bend: dict[str, Any]) -> None:
    """A phishing origin, another relying party's rp id, a foreign challenge, or no user
    presence: the signature may be genuine, the login is refused."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    with pytest.raises(InvalidCredentials):
        await _sign_in(svc, device, **bend)


async def test_a_tampered_signature_is_refused(services: tuple[Services, FixedClock]) -> None:
    """One flipped bit of the signature and the assertion proves nothing."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    challenge = await _pk(svc).sign_in_options(None, WHO)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(challenge.challenge_id, tamper(device.get(challenge.options)), WHO)


async def test_passwordless_sign_in_needs_user_verification(
        services: tuple[Services, FixedClock]) -> None:
    """Without UV (a PIN or biometric) a passkey is one factor only: no login by itself; as
    the second factor of a known user it is accepted."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    with pytest.raises(InvalidCredentials):
        await _sign_in(svc, device, uv=False)
    challenge = await _pk(svc).options_for_user(user.id)
    await _pk(svc).verify_for_user(user.id, device.get(challenge.options, uv=False), WHO)


async def test_a_counter_that_goes_backwards_is_refused_and_audited(
        services: tuple[Services, FixedClock]) -> None:
    """A signature counter that does not grow means a cloned key: refused, and audited as
    passkey.counter_regressed; an authenticator that keeps no counter (always 0) is fine."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    await _sign_in(svc, device)  # counter 1
    device.credentials[0].sign_count = 0
    with pytest.raises(InvalidCredentials):
        await _sign_in(svc, device, counter_step=1)  # 1 again
    [event] = await _events(svc, "passkey.counter_regressed", user.id)
    assert event.detail["stored"] == 1 and event.detail["presented"] == 1
    counterless = SoftAuthenticator(ORIGIN)
    other = await _user(svc, "bob@example.com")
    await _enrol(svc, other, counterless)
    for _ in range(2):
        assert (await _sign_in(svc, counterless, counter_step=0)).id == other.id


async def test_a_passkey_proves_only_its_own_user(services: tuple[Services, FixedClock]) -> None:
    """Ada's passkey neither passes Bob's second factor nor answers a sign-in started for Bob's
    address, and Bob cannot remove it."""
    svc, _ = services
    ada, bob = await _user(svc), await _user(svc, "bob@example.com")
    device = SoftAuthenticator(ORIGIN)
    ada_key = await _enrol(svc, ada, device)
    await _enrol(svc, bob, SoftAuthenticator(ORIGIN))
    challenge = await _pk(svc).options_for_user(bob.id)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).verify_for_user(bob.id, device.get(challenge.options,
                                                          credential=device.credentials[0]), WHO)
    for_bob = await _pk(svc).sign_in_options(bob.email, WHO)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(for_bob.challenge_id,
                               device.get(for_bob.options, credential=device.credentials[0]), WHO)
    with pytest.raises(NotFound):
        await _pk(svc).remove(bob.id, ada_key, WHO)
    assert await _pk(svc).count(ada.id) == 1


async def test_a_removed_passkey_no_longer_signs_in(services: tuple[Services, FixedClock]) -> None:
    """Once removed (or reset by the operator) a passkey is refused, and the removal is audited."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    passkey_id = await _enrol(svc, user, device)
    await _pk(svc).remove(user.id, passkey_id, WHO)
    assert await _events(svc, "passkey.removed", user.id)
    with pytest.raises(InvalidCredentials):
        await _sign_in(svc, device)
    await _enrol(svc, user, device)
    await _enrol(svc, user, device)
    assert await _pk(svc).remove_all(user.id) == 2
    assert await _pk(svc).count(user.id) == 0


async def test_challenges_serve_only_their_purpose(services: tuple[Services, FixedClock]) -> None:
    """A registration challenge does not sign in, a sign-in challenge does not register, and
    a second-factor challenge of one user is no sign-in challenge."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    registration = await _pk(svc).registration_options(user.id)
    assertion = device.get({**registration.options, "allowCredentials": []})
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(registration.challenge_id, assertion, WHO)
    sign_in = await _pk(svc).sign_in_options(None, WHO)
    with pytest.raises(InvalidRequest):
        await _pk(svc).register(user.id, sign_in.challenge_id,
                                device.create({**registration.options,
                                               "challenge": sign_in.options["challenge"]}), None, WHO)
    second = await _pk(svc).options_for_user(user.id)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).sign_in(second.challenge_id, device.get(second.options), WHO)


async def test_verify_for_user_finds_its_challenge_in_the_assertion(
        services: tuple[Services, FixedClock]) -> None:
    """The second-factor check needs no challenge id; a sign-in challenge also serves (re-login
    from the sign-in page), once."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    challenge = await _pk(svc).sign_in_options(None, WHO)
    assertion = device.get(challenge.options)
    await _pk(svc).verify_for_user(user.id, assertion, WHO)
    with pytest.raises(InvalidCredentials):
        await _pk(svc).verify_for_user(user.id, assertion, WHO)


async def test_a_registration_from_another_origin_is_refused(
        services: tuple[Services, FixedClock]) -> None:
    """A credential created on a phishing page is not stored."""
    svc, _ = services
    user = await _user(svc)
    challenge = await _pk(svc).registration_options(user.id)
    device = SoftAuthenticator(ORIGIN)
    with pytest.raises(InvalidRequest):
        await _pk(svc).register(user.id, challenge.challenge_id,
                                device.create(challenge.options, origin="https://evil.example"),
                                None, WHO)
    assert await _pk(svc).count(user.id) == 0


@pytest.mark.parametrize("garbage", [
    None, 7, "not json", "[]", {}, {"id": "x"},
    {"id": "AA", "rawId": "AA", "type": "public-key",
     "response": {"clientDataJSON": "!!", "authenticatorData": "AA", "signature": "AA"}},
    {"id": "AA", "rawId": "AA", "type": "public-key",
     "response": {"clientDataJSON": b64url(b"{}"), "authenticatorData": "AA", "signature": "AA",
                  "userHandle": "%%"}},
    "x" * 40_000,
])
async def test_garbage_credentials_are_bad_requests(
        services: tuple[Services, FixedClock], garbage: Any) -> None:
    """Whatever a client sends as a credential, the answer is InvalidRequest (400), never a
    server error."""
    svc, _ = services
    challenge = await _pk(svc).sign_in_options(None, WHO)
    with pytest.raises(InvalidRequest):
        await _pk(svc).sign_in(challenge.challenge_id, garbage, WHO)
    user = await _user(svc)
    registration = await _pk(svc).registration_options(user.id)
    with pytest.raises(InvalidRequest):
        await _pk(svc).register(user.id, registration.challenge_id, garbage, None, WHO)


async def test_failed_sign_ins_are_limited_per_ip(services: tuple[Services, FixedClock]) -> None:
    """Failed passkey sign-ins count against the IP's login limit (5 here): the sixth is
    refused before any check, and the owner's successes do not use it up."""
    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    for _ in range(3):
        await _sign_in(svc, device)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await _sign_in(svc, device, origin="https://evil.example")
    with pytest.raises(RateLimited):
        await _sign_in(svc, device)
    assert len(await _events(svc, "login.failed")) == 5


async def test_one_counter_value_signs_in_once_however_many_race(
        services: tuple[Services, FixedClock]) -> None:
    """Two assertions carrying the same counter value (a cloned key racing its original) are
    checked at once: the store's compare-and-set lets exactly one through."""
    import asyncio

    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)
    first = await _pk(svc).sign_in_options(None, WHO)
    second = await _pk(svc).sign_in_options(None, WHO)
    a = device.get(first.options)
    device.credentials[0].sign_count -= 1
    b = device.get(second.options)
    results = await asyncio.gather(_pk(svc).sign_in(first.challenge_id, a, WHO),
                                   _pk(svc).sign_in(second.challenge_id, b, WHO),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["InvalidCredentials", "SignedIn"]


async def test_a_token_sign_in_stores_its_family_only_with_a_passkey_use_that_counts(
        services: tuple[Services, FixedClock]) -> None:
    """In token mode the refresh family is written in the passkey use's own commit: a sign-in
    leaves exactly one live family of the user, and a racing clone, a replayed assertion and
    a counter that went backwards leave none of their own."""
    import asyncio

    svc, clock = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    await _enrol(svc, user, device)

    def family_for(who: User) -> Any:
        return svc.tokens.new_family(who, "app", "", "https://id.example", WHO,
                                     amr=("hwk", "user"))

    first = await _pk(svc).sign_in_options(None, WHO)
    second = await _pk(svc).sign_in_options(None, WHO)
    a = device.get(first.options)
    device.credentials[0].sign_count -= 1
    b = device.get(second.options)
    results = await asyncio.gather(
        _pk(svc).sign_in(first.challenge_id, a, WHO, family_for=family_for),
        _pk(svc).sign_in(second.challenge_id, b, WHO, family_for=family_for),
        return_exceptions=True)
    [(index, won)] = [(i, r) for i, r in enumerate(results) if not isinstance(r, BaseException)]
    assert won.family is not None and won.family.user_id == user.id
    replayed = (first.challenge_id, a) if index == 0 else (second.challenge_id, b)
    with pytest.raises(InvalidCredentials):  # the winner's assertion again
        await _pk(svc).sign_in(*replayed, WHO, family_for=family_for)
    with pytest.raises(InvalidCredentials):  # the clone's counter, behind the stored one
        third = await _pk(svc).sign_in_options(None, WHO)
        device.credentials[0].sign_count -= 1
        await _pk(svc).sign_in(third.challenge_id, device.get(third.options), WHO,
                               family_for=family_for)
    families = await svc.store.families.list_families(user.id, clock.now())
    assert [f.id for f in families] == [won.family.id]
    assert families[0].amr == ("hwk", "user")


async def test_a_registration_challenge_registers_one_passkey(
        services: tuple[Services, FixedClock]) -> None:
    """A second credential made for the same registration challenge is refused (400), and the
    same authenticator registered again under a new challenge is a Conflict (409)."""
    from authd.errors import Conflict

    svc, _ = services
    user = await _user(svc)
    device = SoftAuthenticator(ORIGIN)
    challenge = await _pk(svc).registration_options(user.id)
    await _pk(svc).register(user.id, challenge.challenge_id, device.create(challenge.options), None, WHO)
    with pytest.raises(InvalidRequest):
        await _pk(svc).register(user.id, challenge.challenge_id, device.create(challenge.options),
                                None, WHO)
    again = await _pk(svc).registration_options(user.id)
    replayed = device.create(again.options, reuse=device.credentials[0])
    with pytest.raises(Conflict):
        await _pk(svc).register(user.id, again.challenge_id, replayed, None, WHO)
    assert await _pk(svc).count(user.id) == 1
