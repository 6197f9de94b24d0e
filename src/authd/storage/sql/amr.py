"""The ``amr`` column of refresh families and cookie sessions: a JSON array as text.

Rows written before the column existed hold NULL and read as no methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson


def encode(methods: Sequence[str]) -> str:
    return orjson.dumps(list(methods)).decode()


def decode(stored: object) -> tuple[str, ...]:
    if not isinstance(stored, str) or not stored:
        return ()
    try:
        parsed = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return ()
    return tuple(str(m) for m in parsed) if isinstance(parsed, list) else ()


def from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as model keyword arguments, ``amr`` decoded."""
    return {**row, "amr": decode(row.get("amr"))}
