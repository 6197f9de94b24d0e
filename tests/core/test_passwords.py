"""Password policy (NIST SP 800-63B) and Argon2id hashing off the event loop."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from authd.core.passwords import PasswordHasher, check_password_policy, common_passwords
from authd.errors import InvalidCredentials, WeakPassword

# Low-cost parameters keep the suite fast; production minimums are enforced by config.
FAST = {"memory_kib": 8192, "time_cost": 1, "parallelism": 1, "workers": 2}


def test_length_limits_count_characters() -> None:
    """8 characters pass, 7 fail; 256 pass, 257 fail; characters, not bytes."""
    check_password_policy("ab3$efgh")
    with pytest.raises(WeakPassword):
        check_password_policy("ab3$efg")
    check_password_policy("x" * 255 + "é")
    with pytest.raises(WeakPassword):
        check_password_policy("x" * 257)
    check_password_policy("ééééééé5")  # 8 code points, 16 bytes


def test_common_passwords_are_refused_case_insensitively() -> None:
    """Entries of the shipped list are refused in any casing."""
    for password in ("password123", "PASSWORD123", "Password123", "iloveyou1", "qwertyuiop"):
        with pytest.raises(WeakPassword):
            check_password_policy(password)


def test_the_list_is_large_and_compact() -> None:
    """100,000+ distinct entries, held as sorted 64-bit hashes: at most 2 MB of memory."""
    entries = common_passwords()
    assert len(entries) >= 100_000
    hashes = entries._hashes
    assert hashes.itemsize == 8 and len(hashes) * hashes.itemsize <= 2 * 1024 * 1024
    assert all(a < b for a, b in itertools.pairwise(hashes))


def test_passwords_off_the_list_are_accepted() -> None:
    """Random strong passwords are not mistaken for common ones (false positives ~1e-14)."""
    import secrets
    for _ in range(2000):
        check_password_policy(secrets.token_urlsafe(12))
    assert 42 not in common_passwords()  # type: ignore[operator]


def test_email_or_its_local_part_is_refused() -> None:
    """The account's own email is not a password."""
    with pytest.raises(WeakPassword):
        check_password_policy("ada.lovelace@example.com", email="ada.lovelace@example.com")
    with pytest.raises(WeakPassword):
        check_password_policy("Ada.Lovelace", email="ada.lovelace@example.com")


def test_no_composition_rules() -> None:
    """Long passphrases without digits or symbols are fine (800-63B)."""
    check_password_policy("correct horse battery staple")


def test_policy_errors_never_echo_the_password() -> None:
    """Error descriptions do not contain the password."""
    with pytest.raises(WeakPassword) as caught:
        check_password_policy("password123")
    assert "password123" not in caught.value.description


async def test_hash_and_verify_round_trip() -> None:
    """A password verifies against its hash; a wrong one raises InvalidCredentials."""
    hasher = PasswordHasher(**FAST)
    try:
        stored = await hasher.hash("correct horse battery staple")
        assert stored.startswith("$argon2id$")
        assert await hasher.verify(stored, "correct horse battery staple") is False
        with pytest.raises(InvalidCredentials):
            await hasher.verify(stored, "wrong horse battery staple")
    finally:
        hasher.close()


async def test_unknown_user_gets_the_same_error() -> None:
    """Verifying against no hash (unknown user) fails exactly like a wrong password."""
    hasher = PasswordHasher(**FAST)
    try:
        with pytest.raises(InvalidCredentials):
            await hasher.verify(None, "authd dummy password for unknown users")
        with pytest.raises(InvalidCredentials):
            await hasher.verify("not-a-hash", "anything at all")
    finally:
        hasher.close()


async def test_rehash_when_parameters_change() -> None:
    """A hash made with older parameters verifies and asks to be upgraded."""
    old, new = PasswordHasher(**FAST), PasswordHasher(**{**FAST, "time_cost": 2})
    try:
        stored = await old.hash("correct horse battery staple")
        assert await new.verify(stored, "correct horse battery staple") is True
        upgraded = await new.hash("correct horse battery staple")
        assert await new.verify(upgraded, "correct horse battery staple") is False
    finally:
        old.close()
        new.close()


async def test_unicode_is_normalised() -> None:
    """NFC and NFD spellings of the same password verify alike (NFKC normalisation)."""
    hasher = PasswordHasher(**FAST)
    try:
        stored = await hasher.hash("caf\u00e9 au lait please")
        await hasher.verify(stored, "cafe\u0301 au lait please")
    finally:
        hasher.close()


async def test_hashing_does_not_block_the_event_loop() -> None:
    """While hashes run, other tasks keep being scheduled."""
    hasher = PasswordHasher(memory_kib=65536, time_cost=3, parallelism=1, workers=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(hasher.hash("correct horse battery staple") for _ in range(4)))
    finally:
        task.cancel()
        hasher.close()
    assert ticks > 100


@pytest.mark.parametrize("password", [
    " " * 8, "\u3000" * 8, "\t \u00a0\u2003 \n  ", " " * 256,
])
def test_whitespace_only_passwords_are_refused(password: str) -> None:
    """Spaces (ASCII, ideographic U+3000, tabs, no-break) alone pass the length rule but are refused."""
    with pytest.raises(WeakPassword) as caught:
        check_password_policy(password)
    assert "spaces" in caught.value.description


@pytest.mark.parametrize("password", ["aaaaaaaa", "AaAaAaAa", "11111111111", "éééééééé", "\u3042" * 9])
def test_one_repeated_character_is_refused(password: str) -> None:
    """A single character repeated (in any casing) is refused with a clear reason."""
    with pytest.raises(WeakPassword) as caught:
        check_password_policy(password)
    assert "repeated" in caught.value.description


def test_spaces_inside_a_passphrase_are_fine() -> None:
    """Only passwords that are *nothing but* spaces or one character are refused."""
    check_password_policy("  a long phrase  ")
    check_password_policy("aaaaaaab")
    check_password_policy("\u3000\u3000\u3000\u3000\u3000\u3000\u3000x")
