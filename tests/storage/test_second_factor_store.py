"""The second-factor store's compare-and-sets, on SQLite and PostgreSQL, under concurrency.

What users rely on: one TOTP code, one recovery code and one mfa_token each
open at most one login, however many requests race with them.
"""

from __future__ import annotations

import asyncio

import pytest

from authd.core.ids import digest, new_id
from authd.core.models import MfaChallenge, RefreshFamily, TotpFactor, User
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database

NOW = 1_800_000_000.0


@pytest.fixture
def sql(migrated_db: Database) -> SqlStore:
    """A migrated SQL store on SQLite and on PostgreSQL."""
    return SqlStore.over(migrated_db)


async def _user(store: SqlStore) -> str:
    user = User(id=new_id(), email=f"{new_id()}@example.com", email_verified=True, name=None,
                password_hash=None, disabled=False, created_at=NOW)
    await store.users.create_user(user)
    return user.id


async def test_a_time_step_is_accepted_once_even_in_parallel(sql: SqlStore) -> None:
    """Of ten parallel uses of one step exactly one wins; an older step after it loses."""
    user_id = await _user(sql)
    factors = sql.second_factors
    assert await factors.put_pending_totp(TotpFactor(user_id, b"sealed", NOW))
    assert not await factors.accept_step(user_id, 100)  # pending factors accept nothing
    assert await factors.confirm_totp(user_id, 100, NOW, [digest("a"), digest("b")])
    assert not await factors.put_pending_totp(TotpFactor(user_id, b"other", NOW))
    results = await asyncio.gather(*(factors.accept_step(user_id, 101) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert not await factors.accept_step(user_id, 100)
    assert await factors.accept_step(user_id, 102)


async def test_a_recovery_code_is_used_once_and_removal_voids_the_set(sql: SqlStore) -> None:
    """Parallel uses of one code: one wins; codes left counts down; deleting TOTP voids them."""
    user_id = await _user(sql)
    factors = sql.second_factors
    await factors.put_pending_totp(TotpFactor(user_id, b"sealed", NOW))
    await factors.confirm_totp(user_id, 1, NOW, [digest("a"), digest("b")])
    results = await asyncio.gather(*(factors.use_recovery_code(user_id, digest("a"), NOW)
                                     for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    assert await factors.recovery_codes_left(user_id) == 1
    assert not await factors.use_recovery_code(await _user(sql), digest("b"), NOW)  # not theirs
    assert await factors.delete_totp(user_id)
    assert await factors.recovery_codes_left(user_id) == 0
    assert not await factors.use_recovery_code(user_id, digest("b"), NOW)


async def test_an_mfa_token_counts_tries_expires_and_finishes_once(sql: SqlStore) -> None:
    """Tries stop at the limit; an expired token yields nothing; finishing is single-use."""
    user_id = await _user(sql)
    factors = sql.second_factors
    token = MfaChallenge(digest("t"), user_id, {"amr": ["pwd"], "mode": "session"}, NOW, NOW + 300)
    await factors.add_challenge(token)
    for attempt in range(1, 4):
        counted = await factors.count_attempt(token.token_hash, NOW, 3)
        assert counted is not None and counted.attempts == attempt
        assert counted.binding == {"amr": ["pwd"], "mode": "session"}
    assert await factors.count_attempt(token.token_hash, NOW, 3) is None
    assert await factors.count_attempt(token.token_hash, NOW + 300, 5) is None  # expired
    results = await asyncio.gather(*(factors.finish_challenge(token.token_hash, NOW)
                                     for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await factors.count_attempt(token.token_hash, NOW, 5) is None  # used
    assert await factors.prune_challenges(NOW + 301) == 1


def _family(user_id: str) -> RefreshFamily:
    return RefreshFamily(id=new_id(), user_id=user_id, client_id="app", scope="", audience="api",
                         generation=0, rotated_at=NOW, created_at=NOW, last_used_at=NOW,
                         idle_expires_at=NOW + 600, absolute_expires_at=NOW + 6000,
                         auth_time=NOW, amr=("pwd", "otp", "mfa"))


async def test_a_second_step_commits_its_try_step_use_and_family_together(sql: SqlStore) -> None:
    """The mfa grant's one commit: of parallel redemptions of one token with one code exactly
    one wins and stores its family; a replayed code counts the try but neither uses the token
    nor stores a family; a used, expired or exhausted token takes no code's step."""
    user_id = await _user(sql)
    factors = sql.second_factors
    await factors.put_pending_totp(TotpFactor(user_id, b"sealed", NOW))
    await factors.confirm_totp(user_id, 100, NOW, [])

    async def parked(name: str, attempts: int = 0) -> bytes:
        await factors.add_challenge(MfaChallenge(digest(name), user_id, {"mode": "token"},
                                                 NOW, NOW + 300, attempts))
        return digest(name)

    replayed = await parked("replayed")
    assert not await factors.redeem_with_step(replayed, NOW, 5, user_id, 100, _family(user_id))
    again = await factors.count_attempt(replayed, NOW, 5)
    assert again is not None and again.attempts == 2 and again.used_at is None

    raced = await parked("raced")
    families = [_family(user_id) for _ in range(6)]
    results = await asyncio.gather(*(factors.redeem_with_step(raced, NOW, 5, user_id, 101, f)
                                     for f in families))
    assert sorted(results) == [False] * 5 + [True]
    stored = await sql.families.list_families(user_id, NOW)
    assert [f.id for f in stored] == [families[results.index(True)].id]
    assert stored[0].amr == ("pwd", "otp", "mfa")

    for token, now in ((raced, NOW), (await parked("late"), NOW + 300),
                       (await parked("spent", attempts=5), NOW)):
        assert not await factors.redeem_with_step(token, now, 5, user_id, 102, _family(user_id))
    assert await factors.accept_step(user_id, 102)  # none of them took the step
    assert len(await sql.families.list_families(user_id, NOW)) == 1


async def test_the_totp_secret_is_sealed_and_bound_to_its_user(sql: SqlStore) -> None:
    """A database leak shows no TOTP secret; a sealed secret copied to another user's row does
    not open (the user id is the AES-GCM associated data)."""
    import base64

    from cryptography.exceptions import InvalidTag

    from authd.clock import FixedClock
    from authd.core.audit import Auditor
    from authd.core.second_factors import SecondFactors
    from authd.core.secrets import ServerSecrets

    clock = FixedClock(NOW)
    keys = ServerSecrets.from_root(b"r" * 32)
    factors = SecondFactors(sql.second_factors, sql.users, keys, "Example",
                            Auditor(sql.audit, clock), clock)
    user_id, other_id = await _user(sql), await _user(sql)
    enrolment = await factors.begin_totp(user_id)
    secret = base64.b32decode(enrolment.secret + "=" * (-len(enrolment.secret) % 8))
    stored = await sql.second_factors.get_totp(user_id)
    assert stored is not None and secret not in stored.secret_enc
    assert enrolment.secret.encode() not in stored.secret_enc
    assert keys.open(stored.secret_enc, b"totp:" + user_id.encode()) == secret
    with pytest.raises(InvalidTag):
        keys.open(stored.secret_enc, b"totp:" + other_id.encode())
