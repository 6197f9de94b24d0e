"""Accounts: sign-up (also behind ``authd users create``), password login, the profile."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from authd.clock import Clock
from authd.core import audit
from authd.core.account_access import userinfo_claims
from authd.core.audit import Auditor
from authd.core.emails import canonical_email
from authd.core.ids import new_id
from authd.core.models import ClientInfo, User
from authd.core.passwords import PasswordHasher, check_password_policy
from authd.core.ports import UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.errors import EmailNotVerified, InvalidCredentials, InvalidRequest, Unauthenticated

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
MAX_NAME = 200
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}$")
SignedUp = Callable[[User], Awaitable[None]]


def normalise_email(raw: object) -> str:
    """The canonical form of a new account's address (one account per mailbox however it is
    typed), checked to be a valid address."""
    if not isinstance(raw, str):
        raise InvalidRequest("email must be a string")
    email = canonical_email(raw)
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidRequest("email is not a valid address")
    return email


def check_name(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > MAX_NAME or any(
            unicodedata.category(c) == "Cc" for c in raw):
        raise InvalidRequest(f"name must be a string of at most {MAX_NAME} printable characters")
    return raw.strip() or None


def check_locale(raw: object) -> str | None:
    """A language tag such as ``ko`` or ``pt-BR`` (the language of the account's mail), or None."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not _LOCALE.match(raw):
        raise InvalidRequest("locale must be a language tag such as en, ko or pt-BR")
    return raw.replace("_", "-").lower()


class Accounts:
    def __init__(self, users: UserStore, hasher: PasswordHasher, guard: BruteForceGuard,
                 auditor: Auditor, clock: Clock, *, require_verified_email: bool = False,
                 on_sign_up: SignedUp | None = None) -> None:
        self._users = users
        self._hasher = hasher
        self._guard = guard
        self._audit = auditor
        self._clock = clock
        self._require_verified = require_verified_email
        self._on_sign_up = on_sign_up  # sends the verification mail

    async def sign_up(self, email: object, password: object, name: object,
                      client: ClientInfo, locale: object = None, *,
                      rate_limited: bool = True, actor: str | None = None) -> User:
        """A new password account: canonical email, the password policy, an audit row.

        ``rate_limited=False`` is for operators (``authd users create``): the
        same rules, without the per-IP sign-up limit meant for strangers.
        """
        if rate_limited:
            await self._guard.check_signup(client.ip or "unknown")
        user = await self._create(email, password, name, client, check_locale(locale), actor)
        if self._on_sign_up is not None:
            await self._on_sign_up(user)
        return user

    async def _create(self, email: object, password: object, name: object,
                      client: ClientInfo, locale: str | None = None,
                      actor: str | None = None) -> User:
        address = normalise_email(email)
        if not isinstance(password, str):
            raise InvalidRequest("password must be a string")
        check_password_policy(password, email=address)
        user = User(
            id=new_id(), email=address, email_verified=False, name=check_name(name),
            password_hash=await self._hasher.hash(password), disabled=False,
            created_at=self._clock.now(), locale=locale,
        )
        by: dict[str, Any] = {"actor": actor} if actor is not None else {}
        event = self._audit.event(audit.SIGNUP, user_id=user.id, client=client, **by)
        await self._users.create_user(user, event)  # the user, its audit row and webhooks: one commit
        self._audit.announce(event)
        return user

    async def authenticate(self, email: object, password: object, client: ClientInfo) -> User:
        """The user behind an email and password, or InvalidCredentials — the same for unknown users.

        The attempt is counted against the rate limits before any password
        work (RateLimited once they are reached, however many arrive at once);
        a right password gives its count back. An unknown email still costs
        one Argon2 verification against a dummy hash.
        """
        if not isinstance(email, str) or not isinstance(password, str):
            raise InvalidRequest("email and password must be strings")
        address = canonical_email(email)
        attempt = await self._guard.reserve_login(address, client.ip or "unknown")
        user = None
        try:
            user = await self._users.find_user_by_email(address) if len(address) <= 320 else None
            needs_rehash = await self._hasher.verify(
                user.password_hash if user and not user.disabled else None, password)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, user_id=user.id if user else None, client=client)
            raise
        except Exception:
            await self._guard.release_login(attempt)  # a server failure answered no guess
            raise
        assert user is not None  # verify() never succeeds against the dummy hash
        await self._guard.release_login(attempt)
        if needs_rehash:
            await self._users.set_password_hash(user.id, await self._hasher.hash(password), None)
        if self._require_verified and not user.email_verified:
            # Only after the password was checked: the answer reveals nothing to a guesser.
            raise EmailNotVerified()
        await self._audit(audit.LOGIN_OK, user_id=user.id, client=client)
        return user

    async def change_password(self, user_id: str, current: object, new: object,
                              client: ClientInfo) -> None:
        """Check the current password, apply the policy to the new one, store its hash.

        The caller ends the user's other sessions and families afterwards.
        """
        if not isinstance(current, str) or not isinstance(new, str):
            raise InvalidRequest("current_password and new_password must be strings")
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise InvalidCredentials()
        attempt = await self._guard.reserve_login(user.email, client.ip or "unknown")
        try:
            await self._hasher.verify(user.password_hash, current)
        except InvalidCredentials:
            raise InvalidRequest("the current password is wrong") from None
        except Exception:
            await self._guard.release_login(attempt)  # a server failure answered no guess
            raise
        await self._guard.release_login(attempt)
        check_password_policy(new, email=user.email)
        event = self._audit.event(audit.PASSWORD_CHANGED, user_id=user.id, client=client)
        await self._users.set_password_hash(user.id, await self._hasher.hash(new),
                                            self._clock.now(), event)  # one commit, its webhooks
        self._audit.announce(event)

    async def profile(self, user_id: str, scope: str, *, user: User | None = None) -> dict[str, Any]:
        """The userinfo claims of a live account that ``scope`` allows (OIDC Core 5.4).

        ``user`` is the account when the caller has it loaded already (a cookie session).
        Unauthenticated when the account is gone or disabled.
        """
        user = user or await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account is gone or disabled")
        return userinfo_claims(user, scope)
