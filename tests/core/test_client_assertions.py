"""private_key_jwt as a use case: the assertion's checks, single use, the guard and the audit.

What a machine's operator relies on: only an assertion signed by the client's
own registered key, for this server, short-lived and never seen before, proves
the client; every forgery or replay is invalid_client, counted against the
client's failure limit like a wrong secret, and audited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from examples.machine_client.client import generate_key, public_jwk

from authd import jose
from authd.clock import FixedClock
from authd.config import Settings
from authd.core import audit
from authd.core.client_assertions import AssertionPolicy, claimed_client, verify_assertion
from authd.core.client_auth import Presented
from authd.core.clients import hash_secret
from authd.core.models import ClientInfo
from authd.errors import InvalidClient, InvalidScope, RateLimited, UnauthorizedClient
from authd.wiring import Services, build_services
from tests.assertions import (
    alg_none,
    claims_for,
    hs256_with_public_key,
    signed,
    tamper_payload,
    tamper_signature,
    unsigned,
)

ISSUER = "https://auth.example.com"
TOKEN_ENDPOINT = f"{ISSUER}/v1/token"
ROBOT, OTHER, SECRETIVE = "key-robot", "other-robot", "secret-robot"
SECRET = "s3cret-of-the-secret-robot-0123456789"
WHO = ClientInfo(ip="203.0.113.9", user_agent="cron")
START = 1_700_000_000.0
POLICY = AssertionPolicy(audiences=(ISSUER, TOKEN_ENDPOINT))
ROBOT_KEY, OTHER_KEY = generate_key(), generate_key()


def _keys(key: ec.EllipticCurvePrivateKey) -> jose.KeySet:
    return jose.KeySet.from_jwks({"keys": [public_jwk(key)]})


def _verify(token: str, now: float = START) -> Any:
    return verify_assertion(token, ROBOT, _keys(ROBOT_KEY), POLICY, now)


def _honest(now: float = START, **extra: Any) -> str:
    return signed(ROBOT_KEY, claims_for(ROBOT, TOKEN_ENDPOINT, now, **extra))


def test_an_honest_assertion_names_its_client_jti_and_expiry() -> None:
    """Signed by the client's key, iss = sub = client, aud = the token endpoint or the issuer."""
    for audience in (TOKEN_ENDPOINT, ISSUER, [ISSUER, "https://elsewhere.example"]):
        verified = _verify(signed(ROBOT_KEY, claims_for(ROBOT, audience, START)))
        assert verified.client_id == ROBOT and verified.expires_at == START + 60
    assert claimed_client(_honest()) == ROBOT


@pytest.mark.parametrize(("forge", "why"), [
    (lambda: _honest(aud="https://another-server.example/v1/token"), "aud"),
    (lambda: _honest(exp=int(START) - 31), "expired"),
    (lambda: _honest(exp=int(START) + 3600), "too far ahead"),
    (lambda: _honest(nbf=int(START) + 120), "not yet valid"),
    (lambda: _honest(iat=int(START) + 120), "not yet valid"),
    (lambda: _honest(sub=OTHER), "sub"),
    (lambda: _honest(iss=OTHER), "iss"),
    (lambda: _honest(jti=""), "jti"),
    (lambda: _honest(jti=7), "jti"),
    (lambda: signed(ROBOT_KEY, {k: v for k, v in claims_for(ROBOT, ISSUER, START).items()
                                if k != "jti"}), "missing"),
    (lambda: signed(ROBOT_KEY, {k: v for k, v in claims_for(ROBOT, ISSUER, START).items()
                                if k != "exp"}), "missing"),
    (lambda: alg_none(ROBOT_KEY, claims_for(ROBOT, ISSUER, START)), "algorithm"),
    (lambda: hs256_with_public_key(ROBOT_KEY, claims_for(ROBOT, ISSUER, START)), "algorithm"),
    (lambda: signed(ROBOT_KEY, claims_for(ROBOT, ISSUER, START),
                    {"alg": "ES256", "kid": "no-such-kid"}), "no registered key"),
    (lambda: signed(OTHER_KEY, claims_for(ROBOT, ISSUER, START)), "no registered key"),
    (lambda: signed(OTHER_KEY, claims_for(ROBOT, ISSUER, START),
                    {"alg": "ES256", "kid": public_jwk(ROBOT_KEY)["kid"]}), "signature"),
    (lambda: tamper_payload(_honest(), exp=int(START) + 200), "signature"),
    (lambda: tamper_signature(_honest()), "signature"),
    (lambda: signed(ROBOT_KEY, claims_for(ROBOT, ISSUER, START),
                    {"alg": "ES256", "jwk": public_jwk(OTHER_KEY)}), "algorithm"),
    (lambda: "not.a.jwt", "malformed"),
    (lambda: unsigned({"alg": "ES256"}, {}), "signature"),
    (lambda: "x" * 5000, "too large"),
])
def test_every_forgery_is_invalid_client_saying_which_check_failed(forge: Any, why: str) -> None:
    """Wrong audience, expired, far-future exp, future nbf/iat, iss or sub of another client,
    no jti, alg none, HS256 keyed with the public key, unknown kid, another client's key,
    tampered payload or signature, an embedded key, garbage: all InvalidClient (401)."""
    with pytest.raises(InvalidClient) as caught:
        _verify(forge())
    assert why in caught.value.description


def test_small_clock_skew_is_tolerated() -> None:
    """A client clock a few seconds off either way still authenticates (30 s leeway)."""
    _verify(_honest(iat=int(START) + 20, nbf=int(START) + 20))
    _verify(_honest(exp=int(START) - 20))


def test_an_unreadable_assertion_claims_no_client() -> None:
    """Garbage never names a client, so it cannot lock one out by itself."""
    for garbage in ("", "a.b", "a.b.c", "x" * 5000, unsigned({"alg": "ES256"}, {"sub": 5})):
        assert claimed_client(garbage) is None


# The use case over real storage -------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Real services with a key-authenticated machine, another one, and a secret-only one."""
    extra: dict[str, Any] = {}
    if request.param == "postgres":
        extra["database_url"] = request.getfixturevalue("fresh_pg_url")
    clients = {
        ROBOT: {"jwks": {"keys": [public_jwk(ROBOT_KEY)]}, "scopes": ["invoices:read"]},
        OTHER: {"jwks": {"keys": [public_jwk(OTHER_KEY)]}, "scopes": ["reports:read"]},
        SECRETIVE: {"secret_hash": hash_secret(SECRET), "scopes": ["reports:read"],
                    "token_endpoint_auth_method": "client_secret_post"},
    }
    settings = Settings(data_dir=tmp_path, issuer=ISSUER, clients=clients,
                        rate_limits={"account_failures": 3, "ip_failures": 100}, **extra)
    svc = await build_services(settings, FixedClock(START))
    try:
        yield svc
    finally:
        await svc.close()


def _by_key(assertion: str, client_id: str | None = None) -> Presented:
    return Presented(client_id, None, "private_key_jwt", assertion)


async def test_a_machine_gets_its_token_with_an_assertion_once(services: Services) -> None:
    """client_credentials by private_key_jwt gives the client's own token; the same assertion
    presented again (a replay off the wire) is invalid_client, with or without client_id."""
    issue = services.use_cases.client_credentials.issue
    assertion = _honest()
    grant = await issue(_by_key(assertion), None, None, WHO)
    claims = services.use_cases.tokens.authenticate(grant.access_token)
    assert claims["sub"] == claims["client_id"] == ROBOT and claims["scope"] == "invoices:read"
    for replay in (_by_key(assertion), _by_key(assertion, ROBOT)):
        with pytest.raises(InvalidClient, match="used already"):
            await issue(replay, None, None, WHO)
    await issue(_by_key(_honest(jti="another"), ROBOT), None, None, WHO)


async def test_a_replay_inside_the_clock_skew_leeway_after_exp_is_refused(
        services: Services) -> None:
    """An assertion is still accepted up to 30 s past its exp (clock skew): its jti must be kept
    at least that long, so a copy presented 10 s after exp is still a replay."""
    auth = services.use_cases.client_auth.authenticate
    assertion = _honest()
    await auth(_by_key(assertion), WHO)
    assert isinstance(services.clock, FixedClock)
    services.clock.advance(70)  # exp was START + 60
    assert await services.client_auth.prune() == 0
    with pytest.raises(InvalidClient, match="used already"):
        await auth(_by_key(assertion), WHO)


async def test_a_client_id_parameter_must_be_the_assertions_client(services: Services) -> None:
    """client_id names OTHER but ROBOT signed: refused (iss must be the named client)."""
    with pytest.raises(InvalidClient):
        await services.use_cases.client_auth.authenticate(_by_key(_honest(), OTHER), WHO)


async def test_methods_are_not_interchangeable(services: Services) -> None:
    """A key client cannot fall back to a secret, a secret client cannot present an assertion,
    and a client registered for client_secret_post cannot use Basic."""
    auth = services.use_cases.client_auth.authenticate
    with pytest.raises(InvalidClient):
        await auth(Presented(ROBOT, "anything", "client_secret_basic"), WHO)
    secretive = signed(ROBOT_KEY, claims_for(SECRETIVE, TOKEN_ENDPOINT, START))
    with pytest.raises(InvalidClient, match="private_key_jwt"):
        await auth(_by_key(secretive, SECRETIVE), WHO)
    with pytest.raises(InvalidClient, match="client_secret_basic"):
        await auth(Presented(SECRETIVE, SECRET, "client_secret_basic"), WHO)
    assert (await auth(Presented(SECRETIVE, SECRET, "client_secret_post"), WHO)).id == SECRETIVE


async def test_the_public_client_cannot_present_an_assertion(services: Services) -> None:
    """An assertion for the first-party public client is refused: it has no keys."""
    public = services.settings.default_client_id
    assertion = signed(ROBOT_KEY, claims_for(public, TOKEN_ENDPOINT, START))
    with pytest.raises(InvalidClient):
        await services.use_cases.client_auth.authenticate(_by_key(assertion), WHO)
    with pytest.raises(UnauthorizedClient):
        await services.use_cases.client_credentials.issue(
            Presented(public, None, "none"), None, None, WHO)


async def test_forged_assertions_lock_the_client_and_are_audited(services: Services) -> None:
    """Three failures (limit 3) from anywhere lock the client: even an honest assertion then
    gets 429; another client is not locked; failures are audited with the reason, never
    with the assertion itself."""
    auth = services.use_cases.client_auth.authenticate
    forgeries = [alg_none(ROBOT_KEY, claims_for(ROBOT, ISSUER, START)),
                 signed(OTHER_KEY, claims_for(ROBOT, ISSUER, START)),
                 _honest(aud="https://elsewhere.example")]
    for n, forgery in enumerate(forgeries):
        with pytest.raises(InvalidClient):
            await auth(_by_key(forgery), ClientInfo(ip=f"198.51.100.{n}"))
    with pytest.raises(RateLimited):
        await auth(_by_key(_honest(jti="honest-but-late")), WHO)
    other = signed(OTHER_KEY, claims_for(OTHER, ISSUER, START))
    assert (await auth(_by_key(other), WHO)).id == OTHER
    events = await services.store.audit.list_events(user_id=None, event=audit.CLIENT_AUTH_FAILED,
                                                    limit=10)
    assert len(events) == 3
    for event in events:
        assert event.detail is not None
        assert event.detail["client_id"] == ROBOT and event.detail["method"] == "private_key_jwt"
        assert not any(forgery in repr(event.detail) for forgery in forgeries)


async def test_honest_assertions_never_count_as_failures(services: Services) -> None:
    """Many good assertions in a row use up nothing of the failure limit."""
    for n in range(6):
        client = await services.use_cases.client_auth.authenticate(
            _by_key(_honest(jti=f"good-{n}")), WHO)
        assert client.id == ROBOT


async def test_expired_jti_records_are_pruned(services: Services) -> None:
    """Pruning drops the record of expired assertions only (their exp refuses them anyway)."""
    await services.use_cases.client_auth.authenticate(_by_key(_honest()), WHO)
    assert await services.client_auth.prune() == 0
    assert isinstance(services.clock, FixedClock)
    services.clock.advance(95)  # past exp (60 s) and the leeway (30 s)
    assert await services.client_auth.prune() == 1


async def test_the_success_and_a_refused_scope_are_audited_under_the_assertions_client(
        services: Services) -> None:
    """A token by assertion is audited as the client's (with its jti, in one commit); a scope
    outside the registration is invalid_scope, audited under the client the assertion proved,
    and is no failed authentication (it never counts towards the lockout)."""
    issue = services.use_cases.client_credentials.issue
    await issue(_by_key(_honest()), None, None, WHO)
    for n in range(4):
        with pytest.raises(InvalidScope):
            await issue(_by_key(_honest(jti=f"wide-{n}")), "admin", None, WHO)
    await issue(_by_key(_honest(jti="still-fine")), None, None, WHO)
    events = await services.store.audit.list_events(user_id=None, event=audit.CLIENT_CREDENTIALS,
                                                    limit=10)
    outcomes = sorted((e.detail or {}).get("reason", "ok") for e in events)
    assert outcomes == ["invalid_scope"] * 4 + ["ok"] * 2
    assert all((e.detail or {}).get("client_id") == ROBOT for e in events)


@pytest.mark.parametrize("alg", ["EdDSA", "PS256", "RS256"])
def test_ed25519_and_rsa_keys_authenticate_too(alg: str) -> None:
    """Besides P-256, a client may register an Ed25519 or RSA key (PKCS#1 v1.5 or PSS); an
    assertion signed by it is accepted, and the same claims under another alg are not."""
    key = jose.generate_key(alg)
    keys = jose.KeySet.from_jwks({"keys": [key.public_jwk()]})
    claims = claims_for(ROBOT, TOKEN_ENDPOINT, START)
    verified = verify_assertion(jose.encode_jwt(claims, key), ROBOT, keys, POLICY, START)
    assert verified.client_id == ROBOT
    with pytest.raises(InvalidClient):
        verify_assertion(signed(ROBOT_KEY, claims, {"alg": "ES256", "kid": key.kid}), ROBOT,
                         keys, POLICY, START)


async def test_an_assertion_naming_no_client_is_refused_and_audited_as_unknown(
        services: Services) -> None:
    """Garbage without client_id names nobody: 401, audited without a client id (never the
    public client's), and no client's failure limit is touched."""
    auth = services.use_cases.client_auth.authenticate
    for _ in range(4):
        with pytest.raises(InvalidClient, match="malformed"):
            await auth(_by_key("garbage.without.sub"), WHO)
    assert (await auth(_by_key(_honest()), WHO)).id == ROBOT
    [event, *_] = await services.store.audit.list_events(
        user_id=None, event=audit.CLIENT_AUTH_FAILED, limit=10)
    assert event.detail is not None and event.detail.get("client_id_unknown") is True


async def test_credentials_no_client_answers_for_use_up_the_addresss_failures(
        services: Services) -> None:
    """Garbage naming no client and assertions for the public client count against the
    sender's address (limit 100): then 429, with no further audit row, while another address
    and the machine itself are unaffected."""
    auth = services.use_cases.client_auth.authenticate
    public = services.settings.default_client_id
    flood = ClientInfo(ip="192.0.2.66")
    for n in range(100):
        garbage = ("garbage.without.sub" if n % 2 else
                   signed(ROBOT_KEY, claims_for(public, TOKEN_ENDPOINT, START)))
        with pytest.raises(InvalidClient):
            await auth(_by_key(garbage), flood)
    written = await services.store.audit.list_events(user_id=None,
                                                     event=audit.CLIENT_AUTH_FAILED, limit=500)
    with pytest.raises(RateLimited):
        await auth(_by_key("garbage.without.sub"), flood)
    with pytest.raises(RateLimited):
        await auth(_by_key(_honest(jti="from-the-flooding-address")), flood)
    assert len(await services.store.audit.list_events(
        user_id=None, event=audit.CLIENT_AUTH_FAILED, limit=500)) == len(written) == 100
    with pytest.raises(InvalidClient):
        await auth(_by_key("garbage.without.sub"), WHO)
    assert (await auth(_by_key(_honest()), WHO)).id == ROBOT
