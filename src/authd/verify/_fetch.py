"""Small JSON GETs with timeouts and a size cap, sync and async.

Verifiers fetch discovery documents, JWKS and the revocation feed; a slow,
huge or non-JSON answer must fail fast and never take the app down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

MAX_BYTES = 1_048_576
TIMEOUT = httpx.Timeout(5.0, connect=2.0)
_MAX_AGE = re.compile(r"max-age=(\d+)")


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object."""


@dataclass(frozen=True, slots=True)
class Fetched:
    body: dict[str, Any]
    max_age: float | None


def _parse(response: httpx.Response) -> Fetched:
    if response.status_code != 200:
        raise FetchError(f"{response.request.url} answered {response.status_code}")
    if len(response.content) > MAX_BYTES:
        raise FetchError("response too large")
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise FetchError("response is not JSON") from None
    if not isinstance(body, dict):
        raise FetchError("response is not a JSON object")
    match = _MAX_AGE.search(response.headers.get("cache-control", ""))
    return Fetched(body, float(match.group(1)) if match else None)


def get_json(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> Fetched:
    try:
        return _parse(client.get(url, params=params, timeout=TIMEOUT))
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}") from None


async def get_json_async(client: httpx.AsyncClient, url: str,
                         params: dict[str, str] | None = None) -> Fetched:
    try:
        return _parse(await client.get(url, params=params, timeout=TIMEOUT))
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}") from None
