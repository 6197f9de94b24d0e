"""Canonical base64url (RFC 7515 section 2): no padding, no other alphabet, no stray bits.

Two encodings of the same bytes must never both verify, so decoding refuses
padding, '+' and '/', whitespace, a length of 1 mod 4, and a last character
whose unused low bits are set.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")
_INDEX = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_PAD = (b"", b"", b"==", b"=")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(data: bytes) -> bytes:
    """Decode canonical unpadded base64url; ValueError otherwise."""
    remainder = len(data) % 4
    if remainder == 1 or _ALPHABET.fullmatch(data) is None:
        raise ValueError("not canonical base64url")
    if remainder:
        last = _INDEX[data[-1]]
        if last & (0x0F if remainder == 2 else 0x03):
            raise ValueError("not canonical base64url: stray bits")
    try:
        return base64.urlsafe_b64decode(data + _PAD[remainder])
    except binascii.Error:
        raise ValueError("not base64url") from None
