"""Canonical base64url (RFC 7515 section 2): no padding, no other alphabet, no stray bits.

Two encodings of the same bytes must never both verify, so decoding refuses
padding, '+' and '/', whitespace, a length of 1 mod 4, and a last character
whose unused low bits are set. Decoding swaps the url-safe and standard
alphabets and maps '=' to '*' in the same C pass, so any '+', '/' or '=' in
the input becomes a character strict ``binascii`` refuses; only the padding
added here is a real '='. ``binascii`` does the rest in C: this is the hot path.
"""

from __future__ import annotations

import base64
import binascii

_SWAP = bytes.maketrans(b"-_+/=", b"+/-_*")
_INDEX = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_PAD = (b"", b"", b"==", b"=")
_UNUSED_BITS = (0, 0, 0x0F, 0x03)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(data: bytes) -> bytes:
    """Decode canonical unpadded base64url; ValueError otherwise."""
    remainder = len(data) % 4
    if remainder:
        if remainder == 1:
            raise ValueError("not canonical base64url")
        if _INDEX.get(data[-1], 0) & _UNUSED_BITS[remainder]:
            raise ValueError("not canonical base64url: stray bits")
    try:
        return binascii.a2b_base64(data.translate(_SWAP) + _PAD[remainder], strict_mode=True)
    except binascii.Error:
        raise ValueError("not base64url") from None
