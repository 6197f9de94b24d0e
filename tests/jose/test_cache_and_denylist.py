"""The JWKS cache policy and the denylist shared by the server and authd.verify (pure, time passed in)."""

from __future__ import annotations

from authd import jose
from authd.core.denylist import Denylist as ServerDenylist
from authd.verify._revocations import RevocationFollower

NOW = 1_700_000_000.0


def _keys() -> jose.KeySet:
    return jose.KeySet([jose.generate_key("ES256").public_key()])


def test_a_fetched_set_is_fresh_for_max_age_clamped_to_the_bounds() -> None:
    """A publisher's max-age is honoured, but can neither force a fetch per request nor pin keys."""
    cache = jose.JwksCache(min_ttl=60, max_ttl=3600, min_refresh_interval=10)
    assert cache.needs_fetch(NOW)
    cache.started(NOW)
    cache.succeeded(_keys(), max_age=1, now=NOW)
    assert not cache.needs_fetch(NOW + 59)
    assert cache.needs_fetch(NOW + 60)
    cache.started(NOW + 60)
    cache.succeeded(_keys(), max_age=10**9, now=NOW + 60)
    assert not cache.needs_fetch(NOW + 3659)
    assert cache.needs_fetch(NOW + 3660)


def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    """A flood of forged kids costs one fetch per min_refresh_interval, not one per token."""
    cache = jose.JwksCache(min_refresh_interval=10)
    cache.started(NOW)
    cache.succeeded(_keys(), None, NOW)
    assert not cache.may_refetch_for_unknown_kid(NOW + 9.9)
    assert cache.may_refetch_for_unknown_kid(NOW + 10)


def test_a_failed_fetch_keeps_the_last_good_set() -> None:
    """The JWKS endpoint being down does not take valid tokens down; the failure is recorded."""
    cache = jose.JwksCache(min_ttl=0, max_ttl=0, min_refresh_interval=5)
    keys = _keys()
    cache.started(NOW)
    cache.succeeded(keys, None, NOW)
    cache.started(NOW + 1)
    cache.failed("503", NOW + 1)
    assert cache.keys is keys and cache.stale_since == NOW + 1 and cache.failures == 1
    assert not cache.needs_fetch(NOW + 2)  # no retry storm against a failing endpoint
    assert cache.needs_fetch(NOW + 6)


def test_without_keys_a_failed_fetch_is_retried_after_the_retry_interval() -> None:
    """Before the first success, a failure is retried soon (retry_interval), not after the TTL."""
    cache = jose.JwksCache(retry_interval=1)
    cache.started(NOW)
    cache.failed("unreachable", NOW)
    assert cache.keys is None and cache.stale_since is None
    assert not cache.needs_fetch(NOW + 0.5)
    assert cache.needs_fetch(NOW + 1)


def test_a_clock_moving_backwards_never_blocks_a_fetch() -> None:
    """A wall clock stepped back (NTP) cannot freeze the cache until it catches up."""
    cache = jose.JwksCache(min_refresh_interval=10)
    cache.started(NOW)
    cache.succeeded(_keys(), None, NOW)
    assert cache.may_refetch_for_unknown_kid(NOW - 3600)


def test_pinned_keys_never_go_stale() -> None:
    """Keys given by the application (a static JWKS) are never refetched."""
    cache = jose.JwksCache()
    cache.pin(_keys())
    assert not cache.needs_fetch(NOW + 10**9)


def test_denylist_keeps_the_later_expiry_and_forgets_expired_entries() -> None:
    """A revoked jti or sid stays refused until the tokens it names have expired anyway."""
    denylist = jose.Denylist()
    denylist.revoke("jti", "a", NOW + 100)
    denylist.revoke("jti", "a", NOW + 50)  # a repeated, shorter entry does not shorten it
    denylist.revoke("sid", "family", NOW + 10)
    assert denylist.is_revoked("a", None) and denylist.is_revoked(None, "family")
    assert not denylist.is_revoked("family", "a")  # a jti never matches a sid and back
    denylist.prune(NOW + 60)
    assert denylist.is_revoked("a", None) and not denylist.is_revoked(None, "family")
    assert len(denylist) == 1


def test_denylist_ignores_claims_that_are_not_strings() -> None:
    """A token whose jti or sid is a list or a number is checked without an error (never a 500)."""
    denylist = jose.Denylist()
    denylist.revoke("jti", "1", NOW + 100)
    assert not denylist.is_revoked(["1"], {"sid": 1})
    assert not denylist.is_revoked(1, None)


def test_denylist_memory_is_bounded_dropping_the_soonest_expiring() -> None:
    """Past max_entries, the entries closest to expiry go first (the least useful ones)."""
    denylist = jose.Denylist(max_entries=2)
    denylist.revoke("jti", "soon", NOW + 10)
    denylist.revoke("sid", "late", NOW + 1000)
    denylist.revoke("jti", "later", NOW + 2000)
    denylist.prune(NOW)
    assert len(denylist) == 2
    assert not denylist.is_revoked("soon", None) and denylist.is_revoked("later", "late")


def test_server_and_verifier_share_one_denylist_structure() -> None:
    """What "revoked" means cannot drift: the server and authd.verify hold the same structure."""
    follower = RevocationFollower("http://127.0.0.1:9/feed")
    assert isinstance(follower.denylist, jose.Denylist)
    assert issubclass(ServerDenylist, jose.Denylist)
    follower.close()
