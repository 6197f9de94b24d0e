"""Passwords: the NIST SP 800-63B policy and Argon2id hashing off the event loop.

Policy: 8 to 256 characters (Unicode code points after NFKC normalisation),
not only whitespace, not one character repeated, not a commonly used
password, not the account's email or its local part; no composition rules
(800-63B 5.1.1.2 advises against them). Whitespace-only and single-character
passwords pass a length rule yet are among the first guesses of any
attacker, so they are refused like the listed ones (800-63B's "repetitive or
sequential characters").

Hashing: Argon2id (RFC 9106; default m=19 MiB, t=2, p=1, the OWASP minimum)
in a bounded thread pool, so that the event loop never blocks and concurrent
logins queue instead of exhausting memory. Unknown users are verified
against a dummy hash with the same parameters: same time, same answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import unicodedata
from array import array
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authd.errors import InvalidCredentials, WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 256


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class CommonPasswords:
    """The shipped list as a sorted array of 64-bit hashes, searched by bisection.

    197,527 entries as Python strings in a set took 21 MB of every server's
    memory; as 8-byte hashes they take 1.6 MB. A password that is not on the
    list is mistaken for one that is with probability n / 2**64 ~ 1.1e-14
    (n = 197,527): a user would have to try about 10**14 passwords to meet
    one such refusal, and it would only ask for another password.
    """

    def __init__(self, hashes: array[int]) -> None:
        self._hashes = hashes

    def __contains__(self, lowered: object) -> bool:
        if not isinstance(lowered, str):
            return False
        wanted = password_hash(lowered)
        at = bisect_left(self._hashes, wanted)
        return at < len(self._hashes) and self._hashes[at] == wanted

    def __len__(self) -> int:
        return len(self._hashes)


def password_hash(lowered: str) -> int:
    """The 64-bit key of a (lower-cased, normalised) password in the shipped list."""
    return int.from_bytes(hashlib.blake2b(lowered.encode("utf-8"), digest_size=8).digest(), "little")


@cache
def common_passwords() -> CommonPasswords:
    """The shipped list (see core/data/README.md), loaded on first use, not at start-up."""
    hashes = array("Q")
    hashes.frombytes(resources.files("authd.core").joinpath("data/common-passwords.u64").read_bytes())
    if sys.byteorder == "big":
        hashes.byteswap()
    return CommonPasswords(hashes)


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise WeakPassword with a reason that never echoes the password."""
    normalised = normalise(password)
    length = len(normalised)
    if length < MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_LENGTH} characters")
    if length > MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_LENGTH} characters")
    if not normalised.strip():  # str.strip knows every Unicode space, e.g. U+3000
        raise WeakPassword("the password must not be only spaces")
    lowered = normalised.lower()
    if len(set(lowered)) == 1:
        raise WeakPassword("the password must not be one character repeated")
    if lowered in common_passwords():
        raise WeakPassword("this password is too common; choose another")
    if email and lowered in {email.lower(), email.lower().split("@", 1)[0]}:
        raise WeakPassword("the password must not be your email address")


class PasswordHasher:
    def __init__(self, *, memory_kib: int = 19_456, time_cost: int = 2, parallelism: int = 1,
                 workers: int = 2) -> None:
        self._argon = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
            type=argon2.Type.ID)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._dummy = self._argon.hash("authd dummy password for unknown users")

    def hash_sync(self, password: str) -> str:
        return self._argon.hash(normalise(password))

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self.hash_sync, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password``; return whether the hash should be upgraded; raise InvalidCredentials.

        ``stored_hash=None`` (unknown or disabled user) costs one full
        verification against the dummy hash and always fails.
        """
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._verify_sync, stored_hash, password)

    def _verify_sync(self, stored_hash: str | None, password: str) -> bool:
        try:
            self._argon.verify(stored_hash or self._dummy, normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise InvalidCredentials() from None
        if stored_hash is None:
            raise InvalidCredentials()
        return self._argon.check_needs_rehash(stored_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
