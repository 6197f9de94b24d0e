"""The refresh-family rules, exactly: rotation, grace, theft, expiry (no I/O, injected time)."""

from __future__ import annotations

import secrets

from authd.core import refresh
from authd.core.models import RefreshFamily
from authd.core.refresh import Outcome

KEY = secrets.token_bytes(32)


def _family(generation: int = 3, rotated_at: float = 1000.0, **changes: object) -> RefreshFamily:
    base = dict(id="fam", user_id="u", client_id="authd", scope="openid", audience="a",
                generation=generation, rotated_at=rotated_at, created_at=0.0, last_used_at=0.0,
                idle_expires_at=10_000.0, absolute_expires_at=20_000.0)
    base.update(changes)
    return RefreshFamily(**base)  # type: ignore[arg-type]


def test_tokens_round_trip_and_carry_256_bit_macs() -> None:
    """A minted token parses back to its family and generation."""
    token = refresh.mint(KEY, "fam", 7)
    assert refresh.parse(KEY, token) == refresh.PresentedToken("fam", 7)
    assert len(token.rsplit(".", 1)[1]) == 43  # 256 bits, base64url


def test_forged_or_garbled_tokens_do_not_parse() -> None:
    """A token with another key, a changed generation or garbage is refused."""
    token = refresh.mint(KEY, "fam", 7)
    family, _, mac = token.split(".")
    for bad in (refresh.mint(secrets.token_bytes(32), "fam", 7), f"{family}.8.{mac}",
                f"other.7.{mac}", "", "a.b", "a.1.b.c", "x" * 500, f"{family}.-1.{mac}",
                f"{family}.\uff17.{mac}", "fam.99999999999.x"):
        assert refresh.parse(KEY, bad) is None, bad


def test_only_the_minted_spelling_of_a_generation_parses() -> None:
    """fam.0001.mac is not fam.1.mac: leading zeros, signs, spaces and non-ASCII digits are
    refused even though the number and the MAC match."""
    for generation in (0, 1, 7, 123456789):
        token = refresh.mint(KEY, "fam", generation)
        family, number, mac = token.split(".")
        assert refresh.parse(KEY, token) == refresh.PresentedToken("fam", generation)
        for spelling in ("0" + number, "000" + number, "+" + number, " " + number,
                         number + " ", number + "\n"):
            assert refresh.parse(KEY, f"{family}.{spelling}.{mac}") is None, spelling
    family, _, mac = refresh.mint(KEY, "fam", 1).split(".")
    assert refresh.parse(KEY, f"{family}.\u0661.{mac}") is None  # ARABIC-INDIC DIGIT ONE


def test_current_generation_rotates() -> None:
    """The current token moves the family on."""
    assert refresh.decide(_family(), 3, 1001.0, 10) is Outcome.ROTATE


def test_parent_within_grace_returns_current() -> None:
    """The immediate parent, replayed within the grace window, converges on the current token."""
    assert refresh.decide(_family(), 2, 1010.0, 10) is Outcome.RETURN_CURRENT


def test_parent_after_grace_is_reuse() -> None:
    """The immediate parent after the window is theft."""
    assert refresh.decide(_family(), 2, 1010.5, 10) is Outcome.REUSE


def test_older_generations_and_future_ones_are_reuse() -> None:
    """A grandparent, or a generation never issued, is theft."""
    assert refresh.decide(_family(), 1, 1000.0, 10) is Outcome.REUSE
    assert refresh.decide(_family(), 0, 1000.0, 10) is Outcome.REUSE
    assert refresh.decide(_family(), 4, 1000.0, 10) is Outcome.REUSE


def test_revoked_and_expired_families_are_dead() -> None:
    """Revoked, idle-expired and absolutely expired families refuse every token."""
    assert refresh.decide(_family(revoked_at=5.0), 3, 1000.0, 10) is Outcome.DEAD
    assert refresh.decide(_family(), 3, 10_000.0, 10) is Outcome.DEAD
    assert refresh.decide(_family(idle_expires_at=30_000.0), 3, 20_000.0, 10) is Outcome.DEAD


def test_idle_expiry_slides_but_never_past_absolute() -> None:
    """Using a family extends its idle expiry up to the absolute lifetime only."""
    family = _family()
    assert refresh.next_idle_expiry(family, 1000.0, 500.0) == 1500.0
    assert refresh.next_idle_expiry(family, 19_900.0, 500.0) == 20_000.0
