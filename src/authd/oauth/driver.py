"""The httpx adapter: runs ``flow.complete_login`` and keeps each provider's metadata and keys.

Per provider it caches the discovery document and the JWKS for an hour. The
JWKS follows the one cache policy authd.verify uses too (``jose.JwksCache``):
an unknown ``kid`` refetches at most once per ``MIN_JWKS_REFETCH`` seconds, so
a stream of forged kids costs one fetch, not one per callback.
Every network failure becomes ``ProviderUnavailable`` (the user is sent back
to the app with ``temporarily_unavailable``), never a 5xx of authd's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from authd import jose
from authd.clock import Clock
from authd.config import ProviderConfig
from authd.core.social_models import PendingLogin, Profile
from authd.errors import ProviderUnavailable
from authd.oauth import flow
from authd.oauth.providers import (
    ProviderMetadata,
    discovery_url,
    github_metadata,
    metadata_from_discovery,
    scopes_for,
)
from authd.oauth.request import check_callback

CACHE_TTL = 3600.0
MIN_JWKS_REFETCH = 10.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# An RSA key published without "alg" is an RS256 key: the only RSA algorithm OIDC requires.
RSA_DEFAULT_ALG = "RS256"


@dataclass
class _Cached:
    value: Any
    fetched_at: float


class ProviderClient:
    """One per configured provider; shared by every login through it."""

    def __init__(self, name: str, config: ProviderConfig, redirect_uri: str, http: httpx.AsyncClient,
                 clock: Clock) -> None:
        self.name = name
        self.config = config
        self.redirect_uri = redirect_uri
        self._http = http
        self._clock = clock
        self._metadata: _Cached | None = None
        self._jwks = jose.JwksCache(min_ttl=CACHE_TTL, max_ttl=CACHE_TTL, default_ttl=CACHE_TTL,
                                    min_refresh_interval=MIN_JWKS_REFETCH, retry_interval=0.0)
        self._lock = asyncio.Lock()

    @property
    def scopes(self) -> tuple[str, ...]:
        return scopes_for(self.config)

    @property
    def credentials(self) -> flow.ClientCredentials:
        return flow.ClientCredentials(self.config.client_id, self.config.client_secret.get_secret_value(),
                                      self.redirect_uri)

    @property
    def link_by_verified_email(self) -> bool:
        return self.config.link_by_verified_email

    async def check_callback(self, pending: PendingLogin | None, params: Mapping[str, str],
                             browser_binding: str | None, clock: Clock) -> str:
        """The authorization code once the callback passed every check (``oauth.request``)."""
        metadata = await self.metadata()
        return check_callback(pending, dict(params), browser_binding, now=clock.now(),
                              issuer=metadata.issuer,
                              issuer_required=metadata.iss_parameter_required)

    async def metadata(self) -> ProviderMetadata:
        now = self._clock.now()
        if self._metadata is None or now - self._metadata.fetched_at > CACHE_TTL:
            url = discovery_url(self.config)
            if url is None:
                meta = github_metadata(self.config)
            else:
                meta = metadata_from_discovery(self.config, await self._get_json(url, "discovery"))
            self._metadata = _Cached(meta, now)
        value: ProviderMetadata = self._metadata.value
        return value

    async def complete(self, pending: PendingLogin, code: str) -> Profile:
        metadata = await self.metadata()
        steps = flow.complete_login(self.name, metadata, self.credentials, pending, code,
                                    now=self._clock.now())
        answer: flow.Answer | None = None
        while True:
            try:
                step = steps.send(answer) if answer is not None else next(steps)
            except StopIteration as done:
                profile: Profile = done.value
                return profile
            if isinstance(step, flow.NeedKeys):
                answer = await self._provider_keys(metadata, step.refresh)
            else:
                answer = await self._send(step)

    async def _provider_keys(self, metadata: ProviderMetadata, refresh: bool) -> jose.KeySet:
        """The provider's keys; a failed fetch is the provider's failure, never a stale success."""
        async with self._lock:
            cache, now = self._jwks, self._clock.now()
            if cache.needs_fetch(now) or (refresh and cache.may_refetch_for_unknown_kid(now)):
                cache.started(now)
                try:
                    cache.succeeded(await self._fetch_keys(metadata), None, now)
                except ProviderUnavailable as exc:
                    cache.failed(exc.description, now)
                    raise
            if cache.keys is None:
                raise ProviderUnavailable("the provider's keys are unavailable")
            return cache.keys

    async def _fetch_keys(self, metadata: ProviderMetadata) -> jose.KeySet:
        if metadata.jwks_uri is None:
            raise ProviderUnavailable("the provider publishes no keys")
        document = await self._get_json(metadata.jwks_uri, "JWKS")
        try:
            keys = jose.KeySet.from_jwks(document, default_alg=RSA_DEFAULT_ALG)
        except jose.JoseError:
            raise ProviderUnavailable("the provider's JWKS is malformed") from None
        # A provider's JWKS holds public keys; a shared secret there would let anyone sign.
        return jose.KeySet(k for k in keys if k.kty != "oct")

    async def _get_json(self, url: str, what: str) -> Any:
        response = await self._send(flow.HttpRequest("GET", url, {"Accept": "application/json"}))
        if response.status != 200:
            raise ProviderUnavailable(f"the provider's {what} answered {response.status}")
        try:
            return orjson.loads(response.body)
        except orjson.JSONDecodeError:
            raise ProviderUnavailable(f"the provider's {what} is not JSON") from None

    async def _send(self, request: flow.HttpRequest) -> flow.HttpResponse:
        try:
            response = await self._http.request(request.method, request.url, headers=request.headers,
                                                data=request.form)
            body = await response.aread()
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the provider is unreachable ({type(exc).__name__})") from None
        if len(body) > flow.MAX_RESPONSE_BYTES:
            raise ProviderUnavailable("the provider's answer is too large")
        return flow.HttpResponse(response.status_code, body)


def new_http_client() -> httpx.AsyncClient:
    """Redirects are not followed: a provider endpoint that redirects is misconfigured."""
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                             headers={"User-Agent": "authd"})
