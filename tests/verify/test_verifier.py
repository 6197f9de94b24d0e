"""TokenVerifier against a controllable issuer: typed failures, JWKS caching, revocations."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time

import pytest

from authd import jose, verify
from authd.clock import FixedClock
from authd.verify import TokenVerifier
from authd.verify.testing import LocalIssuer
from tests.verify.conftest import FakeIssuer


def _verifier(issuer: FakeIssuer, **options: object) -> TokenVerifier:
    options.setdefault("poll_interval", 0.2)
    return TokenVerifier(issuer=issuer.url, audience="my-api", **options)  # type: ignore[arg-type]


def test_valid_token_by_discovery(issuer: FakeIssuer) -> None:
    """A verifier built from the issuer alone finds the JWKS and accepts a valid token."""
    with _verifier(issuer) as v:
        claims = v.verify(issuer.mint(sub="alice", scope="read"))
        assert claims["sub"] == "alice" and claims["scope"] == "read"


def test_jwks_url_and_static_jwks(issuer: FakeIssuer) -> None:
    """The JWKS URL and a static JWKS work as well as discovery."""
    token = issuer.mint()
    with _verifier(issuer, jwks_url=f"{issuer.url}/jwks") as v:
        assert v.verify(token)["sub"] == "user-1"
    with _verifier(issuer, jwks={"keys": [issuer.signer.key.public_jwk()]},
                   follow_revocations=False) as v:
        assert v.verify(token)["sub"] == "user-1"


def test_every_failure_has_its_type(issuer: FakeIssuer) -> None:
    """Expired, not yet valid, bad signature, wrong audience/issuer, unknown key, malformed, typ."""
    with _verifier(issuer) as v:
        with pytest.raises(verify.ExpiredToken):
            v.verify(issuer.mint(expires_in=-60))
        with pytest.raises(verify.NotYetValid):
            v.verify(issuer.mint(nbf=int(time.time()) + 600))
        token = issuer.mint()
        head, body, sig = token.split(".")
        with pytest.raises(verify.BadSignature):
            v.verify(f"{head}.{body}.{sig[:-2]}AA")
        with pytest.raises(verify.InvalidAudience):
            v.verify(issuer.mint(audience="other-api"))
        with pytest.raises(verify.InvalidIssuer):
            v.verify(issuer.mint(iss="https://evil.example"))
        stranger = jose.generate_key("ES256")
        with pytest.raises(verify.UnknownKey):
            v.verify(jose.encode_jwt({"sub": "x", "iss": issuer.url, "aud": "my-api",
                                      "exp": int(time.time()) + 60, "iat": int(time.time())},
                                     stranger, typ="at+jwt"))
        with pytest.raises(verify.MalformedToken):
            v.verify("not.a.token")
        with pytest.raises(verify.InvalidType):
            v.verify(issuer.mint(typ="JWT"))
        for error in (verify.ExpiredToken, verify.RevokedToken, verify.BadSignature):
            assert issubclass(error, verify.InvalidToken)


def test_leeway_defaults_to_ten_seconds(issuer: FakeIssuer) -> None:
    """A token expired 5 s ago passes with the default leeway and fails with leeway 0."""
    token = issuer.mint(expires_in=-5)
    with _verifier(issuer) as v:
        assert v.verify(token)
    with _verifier(issuer, leeway=0) as v, pytest.raises(verify.ExpiredToken):
        v.verify(token)


def test_revoked_jti_and_sid_are_refused_after_a_poll(issuer: FakeIssuer) -> None:
    """Entries in the revocation feed make verify raise RevokedToken, with no call per request."""
    token_a, token_b = issuer.mint(jti="jti-a"), issuer.mint(sid="family-b")
    with _verifier(issuer) as v:
        assert v.verify(token_a) and v.verify(token_b)
        issuer.revoked += [{"jti": "jti-a", "exp": int(time.time()) + 300},
                           {"sid": "family-b", "exp": int(time.time()) + 300}]
        polls = issuer.feed_polls
        deadline = time.monotonic() + 5
        while issuer.feed_polls < polls + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(verify.RevokedToken):
            v.verify(token_a)
        with pytest.raises(verify.RevokedToken):
            v.verify(token_b)
        before = issuer.jwks_fetches + issuer.feed_polls
        for _ in range(50):
            assert v.verify(issuer.mint())
        assert issuer.jwks_fetches + issuer.feed_polls - before <= 2  # only background polls


def test_jwks_url_verifier_finds_the_feed_by_discovery(issuer: FakeIssuer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A verifier given only a JWKS URL follows the feed it finds through discovery.

    While discovery is unreachable it says so in a warning and keeps retrying; once
    discovery answers, revoked tokens are refused. It never silently stops following.
    """
    issuer.discovery_up = False
    issuer.revoked.append({"jti": "gone", "exp": int(time.time()) + 300})
    token = issuer.mint(jti="gone")
    with caplog.at_level(logging.WARNING, logger="authd.verify"), \
            _verifier(issuer, jwks_url=f"{issuer.url}/jwks") as v:
        assert v.verify(token)["jti"] == "gone"  # the feed is not known yet
        assert "discovery" in caplog.text and "revocation feed" in caplog.text
        issuer.discovery_up = True
        deadline = time.monotonic() + 30
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                v.verify(token)
            except verify.RevokedToken:
                refused = True
            threading.Event().wait(0.05)
        assert refused
        assert v.stats()["revocations"]["url"] == f"{issuer.url}/revocations"


def test_feed_outage_keeps_the_last_known_set(issuer: FakeIssuer) -> None:
    """While the feed is down, revoked tokens stay refused and stats say the set is stale."""
    issuer.revoked.append({"jti": "gone", "exp": int(time.time()) + 300})
    with _verifier(issuer) as v:
        token = issuer.mint(jti="gone")
        with pytest.raises(verify.RevokedToken):
            v.verify(token)
        issuer.up = False
        deadline = time.monotonic() + 5
        while v.stats()["revocations"]["stale_since"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert v.stats()["revocations"]["stale_since"] is not None
        with pytest.raises(verify.RevokedToken):
            v.verify(token)


def test_jwks_down_keeps_serving_cached_keys(issuer: FakeIssuer) -> None:
    """When the JWKS endpoint is down, tokens of known keys still verify."""
    with _verifier(issuer, jwks_min_ttl=0.0, jwks_min_refresh_interval=0.0) as v:
        issuer.jwks_max_age = 0  # every verification wants a fresh set
        v.verify(issuer.mint())
        issuer.up = False
        for _ in range(5):
            assert v.verify(issuer.mint())["sub"] == "user-1"
        assert v.stats()["jwks"]["failures"] >= 1


def test_unknown_kid_flood_costs_one_fetch_per_interval(issuer: FakeIssuer) -> None:
    """A flood of tokens with unknown kids triggers at most one JWKS fetch per interval."""
    stranger = jose.generate_key("ES256")
    forged = jose.encode_jwt({"sub": "x", "iss": issuer.url, "aud": "my-api",
                              "exp": int(time.time()) + 60}, stranger, typ="at+jwt")
    with _verifier(issuer, jwks_min_refresh_interval=60) as v:
        v.verify(issuer.mint())
        fetches = issuer.jwks_fetches
        for _ in range(200):
            with pytest.raises(verify.UnknownKey):
                v.verify(forged)
        assert issuer.jwks_fetches - fetches <= 1


def test_new_key_is_found_by_refetch_on_unknown_kid(issuer: FakeIssuer) -> None:
    """A key added at the issuer after the last fetch is picked up on first sight."""
    with _verifier(issuer, jwks_min_refresh_interval=0) as v:
        v.verify(issuer.mint())
        new_key = jose.generate_key("ES256")
        issuer.keys.append(new_key)
        issuer.signer.key = new_key
        assert v.verify(issuer.mint())["sub"] == "user-1"


def test_concurrent_misses_share_one_fetch_in_threads(issuer: FakeIssuer) -> None:
    """Twenty threads verifying at once on a cold cache cause one JWKS fetch."""
    issuer.delay = 0.3
    token = issuer.mint()
    with _verifier(issuer, jwks_url=f"{issuer.url}/jwks", follow_revocations=False) as v, \
            concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: v.verify(token)["sub"], range(20)))
    assert results == ["user-1"] * 20
    assert issuer.jwks_fetches == 1


async def test_concurrent_misses_share_one_fetch_in_tasks(issuer: FakeIssuer) -> None:
    """Twenty tasks verifying at once on a cold cache cause one JWKS fetch."""
    issuer.delay = 0.3
    token = issuer.mint()
    with _verifier(issuer, jwks_url=f"{issuer.url}/jwks", follow_revocations=False) as v:
        results = await asyncio.gather(*(v.verify_async(token) for _ in range(20)))
    assert [r["sub"] for r in results] == ["user-1"] * 20
    assert issuer.jwks_fetches == 1


def test_cache_control_max_age_is_honoured(issuer: FakeIssuer) -> None:
    """Keys are refetched once the server's max-age has passed (clamped to the bounds)."""
    issuer.jwks_max_age = 120
    clock = FixedClock(time.time())
    issuer.signer.clock = clock
    with _verifier(issuer, jwks_min_ttl=60, jwks_min_refresh_interval=0, clock=clock) as v:
        v.verify(issuer.mint())
        fetches = issuer.jwks_fetches
        clock.advance(119)
        v.verify(issuer.mint())
        assert issuer.jwks_fetches == fetches
        clock.advance(1)
        v.verify(issuer.mint())
        assert issuer.jwks_fetches == fetches + 1


PUBLIC_NAMES = [
    "BadSignature", "Claims", "ExpiredToken", "InsufficientUserAuthentication", "InvalidAudience",
    "InvalidClaim", "InvalidIssuer", "InvalidToken", "InvalidType", "MalformedToken",
    "MissingClaim", "NotYetValid", "RequireTokenMiddleware", "RevokedToken", "TokenTooLarge",
    "TokenVerifier", "UnknownKey", "UnsupportedAlgorithm", "VerifierConfigError",
    "check_authentication", "require_scope", "require_token",
]


def test_public_names_are_pinned() -> None:
    """authd.verify exports exactly its documented API and error tree: a change is deliberate."""
    assert sorted(verify.__all__) == PUBLIC_NAMES
    assert all(hasattr(verify, name) for name in PUBLIC_NAMES)


def test_every_verifier_failure_is_an_invalid_token() -> None:
    """An API that catches verify.InvalidToken catches every failure the verifier can raise."""
    errors = [getattr(verify, name) for name in PUBLIC_NAMES
              if isinstance(getattr(verify, name), type)
              and issubclass(getattr(verify, name), Exception)]
    assert len(errors) == 16
    assert all(issubclass(error, verify.InvalidToken) for error in errors)
    assert verify.InvalidToken is jose.InvalidToken


def test_unreachable_discovery_is_an_invalid_token(issuer: FakeIssuer) -> None:
    """When the issuer's discovery cannot be read, verify refuses the token with an InvalidToken.

    An app that catches InvalidToken (or uses the ASGI integration) answers 401, not 500.
    """
    issuer.discovery_up = False
    with _verifier(issuer) as v, pytest.raises(verify.VerifierConfigError) as refused:
        v.verify(issuer.mint())
    assert isinstance(refused.value, verify.InvalidToken)
    assert refused.value.reason == "unverifiable"


def test_local_issuer_and_its_verifier_read_one_injected_clock() -> None:
    """An app tests token expiry by moving a clock, not by waiting: issuer and verifier share it."""
    clock = FixedClock()
    issuer = LocalIssuer(clock=clock)
    with issuer.verifier(audience="api", leeway=0) as v:
        token = issuer.mint(audience="api", expires_in=60)
        assert v.verify(token)["sub"] == "user-1"
        clock.advance(61)
        with pytest.raises(verify.ExpiredToken):
            v.verify(token)


def test_finding_the_feed_backs_off_to_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """While discovery fails, retries slow down (1 s, 2 s, 4 s ... 60 s) and each one is logged."""
    from authd.verify._fetch import FetchError
    from authd.verify._revocations import RevocationFollower

    def unreachable() -> str:
        raise FetchError("discovery answered 503")

    follower = RevocationFollower(None, poll_interval=0.2, locate=unreachable)
    waits = []
    with caplog.at_level(logging.WARNING, logger="authd.verify"):
        for _ in range(8):
            assert not follower._found()
            waits.append(follower._next_wait())
    follower.close()
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert len([r for r in caplog.records if "revocation feed" in r.getMessage()]) == 8
    assert follower.stats()["url"] is None and follower.stats()["failures"] == 8
