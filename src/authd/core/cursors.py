"""Opaque page cursors for the admin API: a position, sealed with an HMAC under a server key.

A cursor is ``base64url(position JSON) "." base64url(tag)``, the tag an
HMAC-SHA256 over the listing's name, the query the page answered and the
position. So a cursor cannot be forged or altered (any changed bit fails the
tag), and a cursor from one query (``query=ada``) is refused by another
(``query=bob``) instead of starting that listing somewhere it never reached:
every failure is one ``InvalidRequest`` (400), never a page of other data.
The position itself is the last row's sort key, which the page already showed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

import orjson

from authd.errors import InvalidRequest

MAX_CURSOR = 512
_TAG_BYTES = 16
Position = Sequence[str | int | float]


class CursorSealer:
    """Seals and opens cursors under one key; the key is derived from the root secret, so every
    instance of a deployment reads every other's cursors."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, listing: str, query: Mapping[str, str | None], position: Position) -> str:
        body = orjson.dumps(list(position))
        return f"{_b64(body)}.{_b64(self._tag(listing, query, body))}"

    def open(self, listing: str, query: Mapping[str, str | None], cursor: str) -> list[object]:
        """The position sealed in ``cursor`` for this listing and query; InvalidRequest otherwise."""
        body, tag = _split(cursor)
        if not hmac.compare_digest(tag, self._tag(listing, query, body)):
            raise InvalidRequest("the cursor is invalid: it was altered or belongs to another query")
        position = orjson.loads(body)
        if not isinstance(position, list):  # only a sealed list can get here; be strict anyway
            raise InvalidRequest("the cursor is invalid")
        return position

    def _tag(self, listing: str, query: Mapping[str, str | None], body: bytes) -> bytes:
        bound = orjson.dumps([listing, sorted((k, v) for k, v in query.items()), body.hex()])
        return hmac.new(self._key, bound, hashlib.sha256).digest()[:_TAG_BYTES]


def _split(cursor: str) -> tuple[bytes, bytes]:
    if len(cursor) > MAX_CURSOR or cursor.count(".") != 1:
        raise InvalidRequest("the cursor is invalid")
    body, tag = cursor.split(".")
    try:
        return _unb64(body), _unb64(tag)
    except (binascii.Error, ValueError):
        raise InvalidRequest("the cursor is invalid") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # one spelling per cursor: no padding, no stray bits
        raise ValueError("non-canonical base64")
    return data
