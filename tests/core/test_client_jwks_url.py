"""A client's keys published at its jwks_url: fetched, cached, rotated and survived.

What an operator relies on: a client can rotate its key by publishing the new
one (an unknown kid makes authd look again, at most once per 10 seconds so a
flood of forged kids costs one fetch); an outage of the client's web server
keeps the last good keys working; keys that cannot be had at all are a 401
invalid_client, never a 500. Real HTTP server on loopback, injected clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from examples.machine_client.client import generate_key, public_jwk, sign_assertion

from authd.clock import FixedClock
from authd.core.client_assertions import AssertionPolicy, ClientKeySets
from authd.errors import InvalidClient
from authd.oauth.client_jwks import HttpJwksFetcher
from tests.assertions import JwksServer

AUD = "https://auth.example.com/v1/token"
POLICY = AssertionPolicy(audiences=(AUD,))
ROBOT = "remote-robot"
OLD_KEY, NEW_KEY = generate_key(), generate_key()


@pytest.fixture
def published() -> Iterator[JwksServer]:
    """The client's own web server, publishing its current key."""
    with JwksServer({"keys": [public_jwk(OLD_KEY)]}) as server:
        yield server


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpJwksFetcher]:
    """authd's HTTP fetcher of client key sets."""
    http = HttpJwksFetcher()
    try:
        yield http
    finally:
        await http.aclose()


def _assertion(key: ec.EllipticCurvePrivateKey, clock: FixedClock) -> str:
    return sign_assertion(key, ROBOT, AUD, now=clock.now())


async def test_keys_are_fetched_once_and_a_rotated_key_is_found(
        published: JwksServer, fetcher: HttpJwksFetcher) -> None:
    """The first assertion fetches; later ones use the cache; a new kid refetches only once
    the 10-second refetch interval has passed."""
    clock = FixedClock()
    keys = ClientKeySets({}, {ROBOT: published.url}, fetcher, clock)
    for _ in range(3):
        assert (await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)).client_id == ROBOT
    assert published.fetches == 1
    published.jwks = {"keys": [public_jwk(NEW_KEY)]}
    with pytest.raises(InvalidClient):  # within the interval: no fetch for an unknown kid
        await keys.verify(_assertion(NEW_KEY, clock), ROBOT, POLICY)
    assert published.fetches == 1
    clock.advance(11)
    assert (await keys.verify(_assertion(NEW_KEY, clock), ROBOT, POLICY)).client_id == ROBOT
    assert published.fetches == 2
    with pytest.raises(InvalidClient):  # the old key is gone from the published set
        await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)


async def test_an_outage_keeps_the_last_good_keys(published: JwksServer,
                                                  fetcher: HttpJwksFetcher) -> None:
    """Past the cache's freshness the client's server answers 503: the known key still works."""
    clock = FixedClock()
    keys = ClientKeySets({}, {ROBOT: published.url}, fetcher, clock)
    await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)
    published.status = 503
    clock.advance(3600)
    assert (await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)).client_id == ROBOT
    assert published.fetches == 2


async def test_keys_that_cannot_be_had_are_invalid_client(published: JwksServer,
                                                          fetcher: HttpJwksFetcher) -> None:
    """Never fetched successfully (down, or not a JWKS): 401 invalid_client, not a 5xx."""
    clock = FixedClock()
    published.status = 503
    keys = ClientKeySets({}, {ROBOT: published.url}, fetcher, clock)
    with pytest.raises(InvalidClient, match="unavailable"):
        await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)
    published.status, published.jwks = 200, {"not": "a jwks"}
    clock.advance(2)
    with pytest.raises(InvalidClient, match="unavailable"):
        await keys.verify(_assertion(OLD_KEY, clock), ROBOT, POLICY)
