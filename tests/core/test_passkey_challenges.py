"""Passkey challenges carry their purpose, user and expiry under a MAC: none of them can be
changed, and no challenge can be made without the key."""

from __future__ import annotations

import secrets

import pytest

from authd.core.passkey_challenges import CHALLENGE_BYTES, Purpose, issue, open_challenge

KEY = secrets.token_bytes(32)
NOW = 1_700_000_000.0


def test_a_challenge_opens_for_its_user_until_it_expires() -> None:
    """An issued challenge names its purpose and user, and is refused from its expiry on."""
    raw = issue(KEY, Purpose.USER, "u1", NOW, 300)
    assert len(raw) == CHALLENGE_BYTES
    opened = open_challenge(KEY, raw, ("u1",), NOW + 299)
    assert opened is not None and (opened.purpose, opened.user_id) == (Purpose.USER, "u1")
    assert open_challenge(KEY, raw, ("u1",), NOW + 300) is None


def test_an_unbound_challenge_is_no_users_and_a_bound_one_no_one_elses() -> None:
    """A sign-in challenge without an email opens as "no user"; one bound to u1 opens for u1 only."""
    free = issue(KEY, Purpose.SIGN_IN, None, NOW, 300)
    bound = issue(KEY, Purpose.SIGN_IN, "u1", NOW, 300)
    assert open_challenge(KEY, free, ("u2", None), NOW) is not None
    assert open_challenge(KEY, free, ("u2",), NOW) is None
    assert open_challenge(KEY, bound, ("u2", None), NOW) is None


@pytest.mark.parametrize("offset", [0, 15, 16, 23, 24, 40])  # nonce, expiry, purpose, tag
def test_changing_any_byte_voids_the_challenge(offset: int) -> None:
    """A stretched expiry, another purpose, another nonce or a guessed tag is refused."""
    raw = bytearray(issue(KEY, Purpose.REGISTER, "u1", NOW, 300))
    raw[offset] ^= 0x01
    assert open_challenge(KEY, bytes(raw), ("u1", None), NOW) is None


def test_a_challenge_of_another_key_or_length_is_refused() -> None:
    """Another deployment's challenges, and byte strings of another length, open nothing."""
    other = issue(secrets.token_bytes(32), Purpose.SIGN_IN, None, NOW, 300)
    assert open_challenge(KEY, other, (None,), NOW) is None
    assert open_challenge(KEY, b"", (None,), NOW) is None
    assert open_challenge(KEY, other + b"x", (None,), NOW) is None


def test_redeeming_records_the_challenge_until_it_expires() -> None:
    """The redemption record is keyed by the challenge and lives as long as it would."""
    raw = issue(KEY, Purpose.SIGN_IN, None, NOW, 300)
    opened = open_challenge(KEY, raw, (None,), NOW)
    assert opened is not None
    used = opened.redeemed()
    assert used.expires_at == NOW + 300 and used.key.startswith("webauthn:")
    assert used == open_challenge(KEY, raw, (None,), NOW + 1).redeemed()  # type: ignore[union-attr]
