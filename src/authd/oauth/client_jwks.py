"""The httpx adapter behind ``core.client_assertions.JwksFetcher``: a client's published JWKS.

Fetched with short timeouts, a size cap and no redirects (a JWKS URL that
redirects is misconfigured, and following it would let a compromised host
point authd anywhere). Every failure is ``JwksUnavailable``; the core keeps the
last good set and answers ``invalid_client``, never a 5xx of authd's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from authd.core.client_assertions import JwksUnavailable
from authd.verify._fetch import FetchError, get_json_async

TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class HttpJwksFetcher:
    def __init__(self) -> None:
        self._http = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                       headers={"User-Agent": "authd",
                                                "Accept": "application/json"})

    async def fetch(self, url: str) -> tuple[Mapping[str, Any], float | None]:
        try:
            fetched = await get_json_async(self._http, url)
        except FetchError as exc:
            raise JwksUnavailable(str(exc)) from None
        return fetched.body, fetched.max_age

    async def aclose(self) -> None:
        await self._http.aclose()
