"""TokenVerifier: verifies authd access tokens with public keys and no call per request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from authd.clock import Clock, SystemClock
from authd.jose import (
    InvalidToken,
    JoseError,
    JwksCache,
    KeySet,
    RevokedToken,
    UnknownKey,
    decode_jwt,
)
from authd.verify._fetch import Fetched, FetchError, get_json, get_json_async
from authd.verify._revocations import FeedNotFound, RevocationFollower

ACCESS_TOKEN_TYP = "at+jwt"
Claims = dict[str, Any]


class VerifierConfigError(InvalidToken):
    """The verifier cannot find its keys (bad issuer, unreachable or wrong discovery document).

    An ``InvalidToken`` like every failure of ``verify``: a token that cannot be
    checked is refused (a 401 in the ASGI integration), never an unexpected error.
    """

    reason = "unverifiable"


class InsufficientUserAuthentication(InvalidToken):
    """A valid token whose login is too old (``max_age``) or too weak (``amr``) for this call.

    RFC 9470: the app should have the user sign in again (or with a second
    factor) and retry. ``max_age`` and ``amr`` say what was asked for.
    """

    reason = "insufficient_user_authentication"

    def __init__(self, detail: str, *, max_age: int | None = None,
                 amr: Collection[str] = ()) -> None:
        super().__init__(detail)
        self.max_age = max_age
        self.amr = tuple(amr)


def check_authentication(claims: Mapping[str, Any], now: float, *, max_age: int | None = None,
                         amr: Collection[str] | None = None) -> None:
    """Raise InsufficientUserAuthentication unless the token's login is recent and strong enough.

    ``max_age``: the login (``auth_time``) at most this many seconds ago; a token
    without ``auth_time`` (a client's own token) never passes. ``amr``: every one
    of these methods is in the token's ``amr`` (e.g. ``["mfa"]``).
    """
    if max_age is not None:
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool) \
                or not 0 <= now - auth_time <= max_age:
            raise InsufficientUserAuthentication(
                "the login is too old: sign in again", max_age=max_age, amr=amr or ())
    if amr:
        present = claims.get("amr")
        methods = set(present) if isinstance(present, list) else set()
        missing = [m for m in amr if m not in methods]
        if missing:
            raise InsufficientUserAuthentication(
                f"this needs a login with {' '.join(missing)}", max_age=max_age, amr=amr)


class TokenVerifier:
    """Verify authd access tokens: signature, iss, aud, exp/nbf/iat, typ, and revocation.

    Build it from the issuer (discovery), a JWKS URL, or a static JWKS::

        v = TokenVerifier(issuer="https://auth.example", audience="my-api")
        claims = v.verify(token)              # raises an InvalidToken subclass
        claims = await v.verify_async(token)

    Time comes from ``clock`` (an ``authd.clock.Clock``): token expiry, the JWKS
    cache and the revocation feed all read it, so tests can move time exactly.
    """

    def __init__(self, *, issuer: str, audience: str | Collection[str],
                 jwks_url: str | None = None, jwks: Mapping[str, Any] | None = None,
                 revocations_url: str | None = None, follow_revocations: bool = True,
                 leeway: float = 10.0, algorithms: Collection[str] | None = None,
                 jwks_min_refresh_interval: float = 10.0, jwks_min_ttl: float = 60.0,
                 jwks_max_ttl: float = 3600.0, poll_interval: float = 2.0,
                 default_alg: str | None = "RS256", http_client: httpx.Client | None = None,
                 async_http_client: httpx.AsyncClient | None = None,
                 clock: Clock | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience if isinstance(audience, str) else frozenset(audience)
        self.leeway = leeway
        self._clock = clock or SystemClock()
        self._algorithms = frozenset(algorithms) if algorithms else None
        self._default_alg = default_alg
        self._jwks_url = jwks_url
        self._revocations_url = revocations_url
        self._follow = follow_revocations
        self._discovered = jwks is not None or jwks_url is not None
        # Built from a JWKS URL alone: the feed's address comes from discovery, in the follower.
        self._feed_by_discovery = (follow_revocations and jwks is None and jwks_url is not None
                                   and revocations_url is None)
        self._state = JwksCache(min_ttl=jwks_min_ttl, max_ttl=jwks_max_ttl,
                                min_refresh_interval=jwks_min_refresh_interval)
        self._static = jwks is not None
        if jwks is not None:
            self._state.pin(self._key_set(jwks))
        self._client = http_client or httpx.Client()
        self._owns_client = http_client is None
        self._async_client = async_http_client
        self._poll_interval = poll_interval
        self._follower: RevocationFollower | None = None
        self._lock = threading.Lock()
        self._async_fetch: asyncio.Task[None] | None = None

    # -- public API ---------------------------------------------------------

    def verify(self, token: str | bytes, *, max_age: int | None = None,
               amr: Collection[str] | None = None) -> Claims:
        """The token's claims, or an InvalidToken subclass saying why not.

        ``max_age`` and ``amr`` ask for a recent or a stronger login (step-up,
        RFC 9470): ``InsufficientUserAuthentication`` when the token's is not.
        """
        self._prepare_sync()
        try:
            claims = self._decode(token)
        except UnknownKey:
            if not self._refresh_sync(for_unknown_kid=True):
                raise
            claims = self._decode(token)
        claims = self._not_revoked(claims)
        check_authentication(claims, self._clock.now(), max_age=max_age, amr=amr)
        return claims

    async def verify_async(self, token: str | bytes, *, max_age: int | None = None,
                           amr: Collection[str] | None = None) -> Claims:
        """As ``verify``; fetches happen without blocking the event loop."""
        if self._needs_setup() or self._state.needs_fetch(self._clock.now()):
            await self._refresh_async()
        try:
            claims = self._decode(token)
        except UnknownKey:
            if not await self._refresh_async(for_unknown_kid=True):
                raise
            claims = self._decode(token)
        claims = self._not_revoked(claims)
        check_authentication(claims, self._clock.now(), max_age=max_age, amr=amr)
        return claims

    def now(self) -> float:
        """The verifier's clock: what token times are checked against."""
        return self._clock.now()

    def start(self) -> None:
        """Fetch keys and start following revocations now rather than on first use."""
        self._prepare_sync()

    def stats(self) -> dict[str, Any]:
        s = self._state
        return {
            "jwks": {"url": self._jwks_url, "keys": len(s.keys) if s.keys else 0,
                     "fetches": s.fetches, "failures": s.failures, "last_error": s.last_error,
                     "stale_since": s.stale_since},
            "revocations": self._follower.stats() if self._follower else None,
        }

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> TokenVerifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------

    def _decode(self, token: str | bytes) -> Claims:
        keys = self._state.keys
        if keys is None:
            raise UnknownKey("no keys available from the issuer")
        return decode_jwt(token, keys, issuer=self.issuer, audience=self.audience,
                          now=self._clock.now(), leeway=self.leeway, typ=ACCESS_TOKEN_TYP,
                          required=("exp", "iat", "iss", "sub"))

    def _not_revoked(self, claims: Claims) -> Claims:
        follower = self._follower
        if follower is not None and follower.is_revoked(claims.get("jti"), claims.get("sid")):
            raise RevokedToken()
        return claims

    def _needs_setup(self) -> bool:
        return not self._discovered or (self._follow and self._follower is None and (
            self._revocations_url is not None or self._feed_by_discovery))

    def _prepare_sync(self) -> None:
        if self._needs_setup():
            with self._lock:
                if not self._discovered:
                    self._discover(self._discovery_document())
                self._start_follower()
        if not self._static and self._state.needs_fetch(self._clock.now()):
            self._refresh_sync()

    def _discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _discovery_document(self) -> dict[str, Any]:
        try:
            return get_json(self._client, self._discovery_url()).body
        except FetchError as exc:
            raise VerifierConfigError(f"cannot read the issuer's discovery document: {exc}") from None

    def _discover(self, document: dict[str, Any]) -> None:
        if document.get("issuer") != self.issuer:
            raise VerifierConfigError("discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise VerifierConfigError("discovery document has no jwks_uri")
        self._jwks_url = jwks_uri
        feed = document.get("authd_revocations_endpoint")
        if self._revocations_url is None and isinstance(feed, str):
            self._revocations_url = feed
        self._discovered = True

    def _start_follower(self) -> None:
        if self._follow and self._follower is None and (
                self._revocations_url or self._feed_by_discovery):
            follower = RevocationFollower(
                self._revocations_url, poll_interval=self._poll_interval, client=self._client,
                clock=self._clock, locate=self._locate_feed if self._feed_by_discovery else None)
            follower.start()
            self._follower = follower

    def _locate_feed(self) -> str:
        """The feed's URL from the issuer's discovery document (for a verifier built from a JWKS URL)."""
        document = get_json(self._client, self._discovery_url()).body
        if document.get("issuer") != self.issuer:
            raise FeedNotFound("the discovery document names another issuer")
        feed = document.get("authd_revocations_endpoint")
        if not isinstance(feed, str):
            raise FeedNotFound("the discovery document names no authd_revocations_endpoint")
        return feed

    def _refresh_sync(self, for_unknown_kid: bool = False) -> bool:
        """Fetch the JWKS unless someone just did; True if the key set changed."""
        if self._static or self._jwks_url is None:
            return False
        seen = self._state.generation
        with self._lock:  # single flight: waiters see the generation move and do not refetch
            if self._state.generation != seen:
                return True
            if not self._claim_fetch(for_unknown_kid):
                return False
            try:
                self._apply(get_json(self._client, self._jwks_url))
            except (FetchError, JoseError, ValueError) as exc:
                self._state.failed(str(exc), self._clock.now())
                return False
            return True

    async def _refresh_async(self, for_unknown_kid: bool = False) -> bool:
        if self._needs_setup():
            await asyncio.to_thread(self._prepare_setup_only)
        if self._static or self._jwks_url is None:
            return False
        seen = self._state.generation
        task = self._async_fetch
        if task is None or task.done():
            if not self._claim_fetch(for_unknown_kid):
                return False
            task = self._async_fetch = asyncio.ensure_future(self._fetch_async())
        await asyncio.shield(task)  # concurrent misses share this one fetch
        return self._state.generation != seen

    def _claim_fetch(self, for_unknown_kid: bool) -> bool:
        """Whether the cache policy allows a fetch now; if so, record that one starts."""
        now = self._clock.now()
        allowed = (self._state.may_refetch_for_unknown_kid(now) if for_unknown_kid
                   else self._state.needs_fetch(now))
        if allowed:
            self._state.started(now)
        return allowed

    def _apply(self, fetched: Fetched) -> None:
        self._state.succeeded(self._key_set(fetched.body), fetched.max_age, self._clock.now())

    def _key_set(self, jwks: Mapping[str, Any]) -> KeySet:
        """The JWKS's keys, only those of the allowed algorithms when the verifier names them."""
        keys = KeySet.from_jwks(jwks, default_alg=self._default_alg)
        if self._algorithms is None:
            return keys
        return KeySet(k for k in keys if k.alg in self._algorithms)

    def _prepare_setup_only(self) -> None:
        with self._lock:
            if not self._discovered:
                self._discover(self._discovery_document())
            self._start_follower()

    async def _fetch_async(self) -> None:
        assert self._jwks_url is not None
        try:
            if self._async_client is not None:
                fetched = await get_json_async(self._async_client, self._jwks_url)
            else:
                fetched = await asyncio.to_thread(get_json, self._client, self._jwks_url)
            self._apply(fetched)
        except (FetchError, JoseError, ValueError) as exc:
            self._state.failed(str(exc), self._clock.now())

