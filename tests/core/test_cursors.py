"""Sealed page cursors and deleted users' pseudonyms: the pure rules behind the admin API."""

from __future__ import annotations

import pytest

from authd.core.cursors import CursorSealer
from authd.core.your_data import pseudonym
from authd.errors import InvalidRequest

KEY = b"k" * 32
QUERY = {"query": "ada"}


def test_a_cursor_opens_to_its_position_under_the_same_key_and_query() -> None:
    """Any instance with the same root secret continues another's listing."""
    cursor = CursorSealer(KEY).seal("users", QUERY, [1700000000.25, "abc"])
    assert CursorSealer(KEY).open("users", QUERY, cursor) == [1700000000.25, "abc"]


@pytest.mark.parametrize(("listing", "query", "key"), [
    ("users", {"query": "bob"}, KEY), ("audit", QUERY, KEY), ("users", QUERY, b"o" * 32),
    ("users", {"query": None}, KEY)])
def test_a_cursor_is_refused_by_another_query_listing_or_key(
        listing: str, query: dict[str, str | None], key: bytes) -> None:
    """A cursor moved to another query, listing or deployment is a 400, never another page."""
    cursor = CursorSealer(KEY).seal("users", QUERY, [1.0, "abc"])
    with pytest.raises(InvalidRequest):
        CursorSealer(key).open(listing, query, cursor)


def test_every_single_bit_flip_is_refused() -> None:
    """No altered cursor opens: each bit of the position and of the tag is covered."""
    sealer = CursorSealer(KEY)
    cursor = sealer.seal("users", QUERY, [1.0, "abc"])
    for index in range(len(cursor)):
        for replacement in {"A", "B", "-", "_", "."} - {cursor[index]}:
            forged = cursor[:index] + replacement + cursor[index + 1:]
            with pytest.raises(InvalidRequest):
                sealer.open("users", QUERY, forged)


def test_the_pseudonym_is_stable_keyed_and_fits_the_column() -> None:
    """The same user maps to the same pseudonym (their rows stay linked); another key or user
    gives another; it fits the 32-character user_id column."""
    alias = pseudonym(KEY, "user-1")
    assert alias == pseudonym(KEY, "user-1") and alias.startswith("del_")
    assert alias != pseudonym(KEY, "user-2") and alias != pseudonym(b"o" * 32, "user-1")
    assert len(alias) <= 32 and "user-1" not in alias
