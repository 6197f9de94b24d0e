"""Changing a password, by the API or the hosted pages: one rule for both.

The new password takes effect and every *other* session and refresh family
of the user ends (the one that made the change stays), so whoever knew the
old password is signed out everywhere.
"""

from __future__ import annotations

from authd.core.accounts import Accounts
from authd.core.directory import SessionDirectory
from authd.core.models import ClientInfo


async def change_password(accounts: Accounts, directory: SessionDirectory, user_id: str,
                          current: object, new: object, client: ClientInfo, *,
                          keep_session: str | None) -> None:
    await accounts.change_password(user_id, current, new, client)
    await directory.revoke_all(user_id, client, except_id=keep_session)
