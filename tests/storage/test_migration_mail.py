"""Migration 0005 (accounts by email): existing users keep everything, gain no locale, and the new
tables work; over real SQLite and PostgreSQL."""

from __future__ import annotations

from authd.storage.sql import SqlStore, open_database
from tests.storage.migrations import insert_old_user, run_on, upgrade_to


async def test_users_from_before_0005_keep_their_rows_and_have_no_locale(sql_url: str) -> None:
    """An upgraded server finds its users as they were (no locale: mail in the request's language)
    and can queue mail at once."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0004"))
        await run_on(db, insert_old_user)
        await run_on(db, upgrade_to("head"))
        store = SqlStore.over(db)
        user = await store.users.get_user("u1")
        assert user is not None and user.locale is None and user.password_hash == "h"
        assert await store.outbox.pending_count() == 0
    finally:
        await db.dispose()
