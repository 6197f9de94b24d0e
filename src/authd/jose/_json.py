"""Strict JSON for JOSE: objects only, duplicate members refused.

orjson keeps the last of duplicate members silently. A cheap, sound check:
if re-serialising the parsed object gives back the exact input, there were
no duplicates (a duplicate collapses, so the output would be shorter).
authd's own tokens are serialised by orjson and always take this fast path;
anything else is parsed again with a hook that refuses duplicates.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from authd.jose._errors import MalformedToken


def loads_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedToken("not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken("not a JSON object")
    if orjson.dumps(value) != raw:
        _refuse_duplicates(raw)
    return value


def _refuse_duplicates(raw: bytes) -> None:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(names) != len(set(names)):
            raise MalformedToken("duplicate JSON member")
        return dict(pairs)

    try:
        json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        raise MalformedToken("not valid JSON") from None
