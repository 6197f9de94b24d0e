"""``private_key_jwt`` (RFC 7523 section 3, OIDC Core 9): a client proves itself with a JWT it signed.

The client holds a private key; authd holds only the public half (configured
inline, or published by the client at a URL), so nothing stored at authd can
be used to impersonate the client. An assertion is accepted only when:

* it is signed by one of that client's keys with an asymmetric algorithm
  (keys are bound to their algorithm by ``authd.jose``: ``alg: none``, HS256
  "signed" with a public key, keys embedded in the header are refused);
* ``iss`` and ``sub`` are the client id (and the ``client_id`` parameter, if any);
* ``aud`` names authd: its issuer or its token endpoint URL;
* ``exp`` is present, in the future, and at most ``max_lifetime`` ahead, so a
  leaked assertion is worth minutes, not days; ``nbf``/``iat`` not in the future;
* ``jti`` is present and seen for the first time (the replay store keeps it
  until the assertion expires, shared by every instance).

Pure: time is passed in; keys come through ``ClientKeySets``, whose fetching is
behind the ``JwksFetcher`` port and whose caching is ``jose.JwksCache``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from authd import jose
from authd.clock import Clock
from authd.core.ports import JwksFetcher
from authd.errors import InvalidClient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Asymmetric only: a client's registered key is public, so it must never verify an HMAC.
ASSERTION_ALGS = ("ES256", "EdDSA", "PS256", "RS256")
MAX_JTI_LENGTH = 256
# Assertions are a few hundred bytes; a cap well below jose's keeps junk cheap to refuse.
MAX_ASSERTION_SIZE = 4096


@dataclass(frozen=True, slots=True)
class AssertionPolicy:
    """Who an assertion must be for, and how long it may live."""

    audiences: tuple[str, ...]  # the issuer and the token endpoint URL
    max_lifetime: float = 300.0
    leeway: float = 30.0


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    expires_at: float

    @property
    def replay_key(self) -> bytes:
        """The digest a replay store keeps: fixed size whatever the jti, scoped to the client."""
        return hashlib.sha256(f"{self.client_id}\x00{self.jti}".encode()).digest()


def claimed_client(assertion: str) -> str | None:
    """The ``sub`` an assertion claims, read without verifying, to pick the keys to verify it with.

    Never trusted as such: ``verify_assertion`` then checks that the signature is by
    this client's key. None for anything that is not a readable JWT.
    """
    parts = assertion.split(".")
    if len(parts) != 3 or len(assertion) > MAX_ASSERTION_SIZE:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) and 0 < len(sub) <= 128 else None


def verify_assertion(assertion: str, client_id: str, keys: jose.KeySet, policy: AssertionPolicy,
                     now: float) -> VerifiedAssertion:
    """The checked assertion; InvalidClient saying which check failed (never echoing the token)."""
    try:
        claims = jose.decode_jwt(assertion, keys, issuer=client_id, audience=policy.audiences,
                                 now=now, leeway=policy.leeway, max_size=MAX_ASSERTION_SIZE,
                                 required=("iss", "sub", "aud", "exp", "jti"))
    except jose.InvalidToken as exc:
        raise InvalidClient(f"client assertion refused: {_reason(exc)}") from None
    if claims["sub"] != client_id:
        raise InvalidClient("client assertion refused: sub must be the client id")
    exp = claims["exp"]
    if exp > now + policy.max_lifetime + policy.leeway:
        raise InvalidClient("client assertion refused: exp is too far ahead "
                            f"(at most {int(policy.max_lifetime)} s)")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise InvalidClient("client assertion refused: jti must be a non-empty string")
    return VerifiedAssertion(client_id, jti, float(exp))


_REASONS: tuple[tuple[type[jose.InvalidToken], str], ...] = (
    (jose.ExpiredToken, "expired"),
    (jose.NotYetValid, "not yet valid"),
    (jose.InvalidIssuer, "iss must be the client id"),
    (jose.InvalidAudience, "aud must name this server's issuer or token endpoint"),
    (jose.MissingClaim, "a required claim is missing (iss, sub, aud, exp, jti)"),
    (jose.UnknownKey, "no registered key of this client matches"),
    (jose.UnsupportedAlgorithm, "algorithm or header not accepted"),
    (jose.BadSignature, "bad signature"),
    (jose.TokenTooLarge, "too large"),
)


def _reason(exc: jose.InvalidToken) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "malformed"


class JwksUnavailable(Exception):
    """A client's JWKS URL could not be read (down, not JSON, too large)."""


def signing_keys(jwks: Mapping[str, Any]) -> jose.KeySet:
    """The JWKS's public keys of the accepted algorithms (symmetric ones are dropped)."""
    keys = jose.KeySet.from_jwks(jwks, default_alg="RS256", public_only=True)
    return jose.KeySet(k for k in keys if k.alg in ASSERTION_ALGS)


@dataclass
class _Remote:
    url: str
    cache: jose.JwksCache
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ClientKeySets:
    """Each key-authenticated client's public keys: pinned when inline, cached when fetched.

    A fetched set follows ``jose.JwksCache``: fresh for the publisher's max-age
    (clamped), an unknown kid refetches at most once per ``min_refresh_interval``
    (forged kids cost one fetch per interval), a failed fetch keeps the last good set.
    """

    def __init__(self, inline: Mapping[str, Mapping[str, Any]], urls: Mapping[str, str],
                 fetcher: JwksFetcher | None, clock: Clock) -> None:
        self._inline = {client_id: signing_keys(jwks) for client_id, jwks in inline.items()}
        self._remote = {client_id: _Remote(url, jose.JwksCache(min_refresh_interval=10.0))
                        for client_id, url in urls.items()}
        self._fetcher = fetcher
        self._clock = clock

    def has_keys(self, client_id: str) -> bool:
        return client_id in self._inline or client_id in self._remote

    async def keys_of(self, client_id: str, *, refresh: bool = False) -> jose.KeySet:
        """The client's keys; InvalidClient when it has none (or they cannot be fetched)."""
        pinned = self._inline.get(client_id)
        if pinned is not None:
            return pinned
        remote = self._remote.get(client_id)
        if remote is None or self._fetcher is None:
            raise InvalidClient("this client does not authenticate with keys")
        async with remote.lock:
            cache, now = remote.cache, self._clock.now()
            if cache.needs_fetch(now) or (refresh and cache.may_refetch_for_unknown_kid(now)):
                await self._fetch(remote, now)
            if cache.keys is None:
                raise InvalidClient("the client's keys are unavailable at its jwks_url")
            return cache.keys

    async def _fetch(self, remote: _Remote, now: float) -> None:
        assert self._fetcher is not None
        remote.cache.started(now)
        try:
            document, max_age = await self._fetcher.fetch(remote.url)
            keys = signing_keys(document)
        except (JwksUnavailable, jose.JoseError) as exc:
            remote.cache.failed(type(exc).__name__, now)
            return
        remote.cache.succeeded(keys, max_age, now)

    async def verify(self, assertion: str, client_id: str, policy: AssertionPolicy
                     ) -> VerifiedAssertion:
        """``verify_assertion`` with the client's keys, refetched once for an unknown kid."""
        keys = await self.keys_of(client_id)
        try:
            return verify_assertion(assertion, client_id, keys, policy, self._clock.now())
        except InvalidClient:
            if client_id not in self._remote or _kid(assertion) in keys:
                raise
        keys = await self.keys_of(client_id, refresh=True)
        return verify_assertion(assertion, client_id, keys, policy, self._clock.now())


def _kid(assertion: str) -> str | None:
    """The header's kid, read without verifying (only to decide whether to refetch)."""
    header = assertion.split(".", 1)[0]
    try:
        value = orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    kid = value.get("kid") if isinstance(value, dict) else None
    return kid if isinstance(kid, str) else None
