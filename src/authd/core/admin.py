"""Operator actions: the use cases behind the admin API (``/admin/v1``) and ``authd users ...``.

Both go through the same methods, so the CLI and the API cannot drift apart.
They follow the public API's rules: a user created here passes sign-up's
email normalisation and password policy; an email set here is canonical and
unique. Disabling, deleting or password-resetting a user ends every cookie
session and refresh family (each family's ``sid`` enters the revocation feed,
so APIs refuse its access tokens). Every change is audited with its actor: the
calling client's id, or ``cli``; so is reading one user's record or sessions
(``user.viewed``). Searches and listings are not: they would flood the trail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authd.core import audit
from authd.core.accounts import Accounts, check_name, normalise_email
from authd.core.audit import Auditor
from authd.core.cursors import CursorSealer
from authd.core.directory import SessionDirectory, SessionView
from authd.core.email_flows import EmailAccounts
from authd.core.emails import canonical_email
from authd.core.keys import KeyManager
from authd.core.models import AuditEvent, ClientInfo, KeyRecord, User
from authd.core.passkeys import Passkeys
from authd.core.ports import AuditStore, UserStore
from authd.core.second_factors import SecondFactors
from authd.core.your_data import AccountData
from authd.errors import Conflict, InvalidRequest, NotFound

OPERATOR = ClientInfo(ip="cli")
MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_QUERY = 254
EDITABLE = frozenset({"name", "email", "email_verified", "disabled"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an admin action: a client (by id) calling from an address, or the CLI."""

    client_id: str
    client: ClientInfo


CLI = Actor("cli", OPERATOR)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and the cursor of the next (None on the last page)."""

    items: Sequence[Any]
    next_cursor: str | None


def page_size(raw: str | int | None) -> int:
    """``limit``: 1 to 100, 50 when absent; InvalidRequest otherwise."""
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE}") from None
    if not 1 <= size <= MAX_PAGE:
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE}")
    return size


def key_json(record: KeyRecord) -> dict[str, Any]:
    """A signing key as an operator sees it: public parts and dates, never the private key."""
    return {"kid": record.kid, "alg": record.alg, "state": record.state,
            "created_at": record.created_at, "activated_at": record.activated_at,
            "retired_at": record.retired_at, "publish_until": record.publish_until}


class Administration:
    def __init__(self, users: UserStore, accounts: Accounts, directory: SessionDirectory,
                 events: AuditStore, auditor: Auditor, keys: KeyManager, data: AccountData,
                 cursors: CursorSealer, email: EmailAccounts | None,
                 factors: SecondFactors, passkeys: Passkeys) -> None:
        self._users = users
        self._passkeys = passkeys
        self._factors = factors
        self._accounts = accounts
        self._directory = directory
        self._events = events
        self._audit = auditor
        self._keys = keys
        self._data = data
        self._cursors = cursors
        self._email = email

    # -- users --------------------------------------------------------------------------------

    async def search(self, query: str | None, limit: int, cursor: str | None) -> Page:
        """Users whose email or name starts with ``query`` (case-insensitive), oldest first.

        The cursor is sealed to the query: one from another query, or altered, is a 400.
        """
        prefix = canonical_email(query or "") or None
        if prefix is not None and len(prefix) > MAX_QUERY:
            raise InvalidRequest(f"query must be at most {MAX_QUERY} characters")
        bound = {"query": prefix}
        after = None
        if cursor:
            position = self._cursors.open("users", bound, cursor)
            after = _user_position(position)
        found = await self._users.search_users(prefix, after, limit + 1)
        page = list(found[:limit])
        more = len(found) > limit
        next_cursor = (self._cursors.seal("users", bound, [page[-1].created_at, page[-1].id])
                       if more and page else None)
        return Page(page, next_cursor)

    async def reset_mfa(self, ref: str, actor: Actor = CLI) -> User:
        """A user who lost their device: TOTP, recovery codes and passkeys go (audited
        ``mfa.reset`` with the actor); their next login needs only the first factor.

        ``ref`` is a user id or an address; NotFound for no such user.
        """
        user = await self.find_user(ref)
        await self._passkeys.remove_all(user.id)
        await self._factors.reset(user.id, actor.client, actor=actor.client_id)
        return user

    async def list_users(self, limit: int, offset: int) -> Sequence[User]:
        return await self._users.list_users(limit, offset)

    async def create_user(self, email: object, password: object, name: object,
                          actor: Actor = CLI) -> User:
        """Sign-up's own use case, without its per-IP limit (an operator is not a stranger)."""
        return await self._accounts.sign_up(email, password, name, actor.client,
                                            rate_limited=False, actor=actor.client_id)

    async def find_user(self, ref: str) -> User:
        """A user by id, or by address when ``ref`` has an ``@`` (the CLI takes either)."""
        if "@" in ref:
            user = await self._users.find_user_by_email(canonical_email(ref))
            if user is None:
                raise NotFound("no such user")
            return user
        return await self.get_user(ref)

    async def get_user(self, user_id: str) -> User:
        user = await self._users.get_user(user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    async def view_user(self, user_id: str, actor: Actor = CLI) -> User:
        """``get_user`` for an administrator: reading someone's record is audited too."""
        user = await self.get_user(user_id)
        await self._audit(audit.USER_VIEWED, user_id=user_id, client=actor.client,
                          actor=actor.client_id, what="profile")
        return user

    async def update_user(self, user_id: str, fields: Mapping[str, object],
                          actor: Actor = CLI) -> User:
        """PATCH: ``name``, ``email`` (canonical; 409 if taken), ``email_verified``, ``disabled``.

        A new email is unverified unless ``email_verified`` says otherwise. Disabling ends
        every session and family, after the flag is stored (a racing login is refused).
        """
        before = await self.get_user(user_id)
        changes = _changes(before, fields)
        if not changes:
            return before
        events = [self._audit.event(audit.USER_UPDATED, user_id=user_id, client=actor.client,
                                    actor=actor.client_id, fields=sorted(changes))]
        if "disabled" in changes:
            flag = audit.USER_DISABLED if changes["disabled"] else audit.USER_ENABLED
            events.append(self._audit.event(flag, user_id=user_id, client=actor.client,
                                            actor=actor.client_id))
        after = await self._users.update_user(user_id, changes, events)
        if after is None:
            raise NotFound("no such user")
        for event in events:  # stored (with their webhooks) in the change's commit
            self._audit.announce(event)
        if after.disabled and "disabled" in changes:  # the flag first: a racing login is refused
            await self._directory.revoke_all(user_id, actor.client, actor=actor.client_id)
        return after

    async def disable_user(self, email: str, actor: Actor = CLI) -> User | None:
        """``authd users disable``: by address; None for no such user."""
        user = await self._users.find_user_by_email(canonical_email(email))
        if user is None:
            return None
        return await self.update_user(user.id, {"disabled": True}, actor)

    async def delete_user(self, user_id: str, actor: Actor = CLI) -> None:
        """The account and everything tied to it (``AccountData.erase``); NotFound if none."""
        if not await self._data.erase(user_id, actor.client, actor=actor.client_id):
            raise NotFound("no such user")

    # -- sessions and passwords ---------------------------------------------------------------

    async def sessions(self, user_id: str, actor: Actor = CLI) -> list[SessionView]:
        await self.get_user(user_id)
        await self._audit(audit.USER_VIEWED, user_id=user_id, client=actor.client,
                          actor=actor.client_id, what="sessions")
        return await self._directory.list(user_id)

    async def revoke_sessions(self, user_id: str, actor: Actor = CLI) -> int:
        await self.get_user(user_id)
        return await self._directory.revoke_all(user_id, actor.client, actor=actor.client_id)

    async def password_reset(self, user_id: str, actor: Actor = CLI) -> None:
        """End every session and family, then mail a reset link to the account's address.

        The old password still works until the link is used: this is for "someone may have
        my sessions", with the owner's mailbox trusted; disable the user to lock them out.
        """
        user = await self.get_user(user_id)
        if user.disabled:
            raise Conflict("the account is disabled: enable it first")
        if self._email is None:
            raise InvalidRequest("mail is not configured on this server")
        await self._directory.revoke_all(user.id, actor.client, actor=actor.client_id)
        await self._email.send_password_reset(user)
        await self._audit(audit.PASSWORD_RESET_SENT, user_id=user.id, client=actor.client,
                          actor=actor.client_id)

    # -- audit and keys -----------------------------------------------------------------------

    async def events(self, *, user_id: str | None, event: str | None,
                     limit: int) -> Sequence[AuditEvent]:
        """The newest audit events, optionally of one user or one kind (``authd audit``)."""
        return await self._events.list_events(user_id=user_id, event=event, limit=limit)

    async def audit_page(self, *, user_id: str | None, event: str | None, since: float | None,
                         limit: int, cursor: str | None) -> Page:
        """Newest first; the cursor is sealed to the filters."""
        bound = {"user": user_id, "event": event, "since": None if since is None else repr(since)}
        before = None
        if cursor:
            position = self._cursors.open("audit", bound, cursor)
            if len(position) != 1 or not isinstance(position[0], int):
                raise InvalidRequest("the cursor is invalid")
            before = position[0]
        found = await self._events.page_events(user_id=user_id, event=event, since=since,
                                               before_seq=before, limit=limit + 1)
        page = list(found[:limit])
        next_cursor = (self._cursors.seal("audit", bound, [page[-1][0]])
                       if len(found) > limit and page else None)
        return Page([e for _, e in page], next_cursor)

    async def keys(self) -> Sequence[KeyRecord]:
        return await self._keys.records()

    async def rotate_keys(self, actor: Actor = CLI) -> str:
        """The new active key's id."""
        ring = await self._keys.rotate(actor=actor.client_id)
        return ring.signing_key.kid


def _user_position(position: list[object]) -> tuple[float, str]:
    if (len(position) != 2 or not isinstance(position[0], int | float)
            or isinstance(position[0], bool) or not isinstance(position[1], str)):
        raise InvalidRequest("the cursor is invalid")
    return float(position[0]), position[1]


def _changes(user: User, fields: Mapping[str, object]) -> dict[str, object]:
    """The columns a PATCH body changes, validated; InvalidRequest for anything else."""
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0][:40]!r}: editable are "
                             + ", ".join(sorted(EDITABLE)))
    changes: dict[str, object] = {}
    if "name" in fields:
        changes["name"] = check_name(fields["name"])
    if "email" in fields:
        email = normalise_email(fields["email"])
        if email != user.email:
            changes["email"] = email
            changes["email_verified"] = False
    for flag in ("email_verified", "disabled"):
        if flag in fields:
            value = fields[flag]
            if not isinstance(value, bool):
                raise InvalidRequest(f"{flag} must be true or false")
            changes[flag] = value
    return {k: v for k, v in changes.items() if getattr(user, k) != v}
