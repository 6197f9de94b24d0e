"""Token use cases: password and refresh grants, Bearer checks, revocation, introspection.

Access tokens are RFC 9068 JWTs signed by the active key; refresh tokens
follow the family rules of ``authd.core.refresh``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from authd import jose
from authd.clock import Clock
from authd.core import amr as methods_of_login
from authd.core import audit, refresh
from authd.core.audit import Auditor
from authd.core.clients import ADMIN_SCOPE
from authd.core.ids import new_id, new_token_id
from authd.core.keys import KeyManager
from authd.core.models import AuditEvent, ClientInfo, RefreshFamily, Revocation, Rotated, User
from authd.core.policies import TokenPolicy
from authd.core.ports import FamilyStore, UserStore
from authd.core.refresh import Outcome
from authd.core.revocation import Revocations
from authd.errors import InvalidGrant, InvalidScope, InvalidTarget, Unauthenticated

ACCESS_TOKEN_TYP = "at+jwt"
_REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "jti")


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str

    def as_response(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer",
                "expires_in": self.expires_in, "refresh_token": self.refresh_token,
                "scope": self.scope}


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """An access token alone: a client acting for itself (``client_credentials``) gets no
    refresh token, since it can always authenticate again (RFC 6749 4.4.3)."""

    access_token: str
    expires_in: int
    scope: str

    def as_response(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer",
                "expires_in": self.expires_in, "scope": self.scope}


class TokenService:
    def __init__(self, policy: TokenPolicy, families: FamilyStore, users: UserStore,
                 keys: KeyManager, revocations: Revocations, refresh_key: bytes,
                 auditor: Auditor, clock: Clock) -> None:
        self._policy = policy
        self._families = families
        self._users = users
        self._keys = keys
        self._revocations = revocations
        self._refresh_key = refresh_key
        self._audit = auditor
        self._clock = clock
        # authd's own endpoints accept any token it issued, whatever API it was meant for.
        self._accepted_audiences = frozenset(
            {policy.issuer, policy.audience, *policy.allowed_audiences,
             *policy.client_audiences})

    # -- request parameters -------------------------------------------------

    def resolve_scope(self, requested: str | None, allowed: Collection[str]) -> str:
        """The scope of a user's grant: the request's (within ``allowed``) or the defaults.

        ``authd:admin`` is never part of it, whatever the client's configuration or
        ``default_scopes`` say: administration is for a machine's own token
        (``client_credentials``), so that a user's login is never an admin.
        """
        allowed = [s for s in allowed if s != ADMIN_SCOPE]
        if requested is None or not requested.strip():
            return " ".join(s for s in self._policy.default_scopes if s in allowed)
        scopes = requested.split()
        unknown = [s for s in scopes if s not in allowed]
        if unknown:
            raise InvalidScope(f"scope not allowed: {' '.join(unknown)[:100]}")
        return " ".join(dict.fromkeys(scopes))

    def resolve_audience(self, requested: str | None) -> str:
        if requested is None or requested == "":
            return self._policy.audience
        if requested in self._accepted_audiences:
            return requested
        raise InvalidTarget("this audience is not allowed")

    # -- grants --------------------------------------------------------------

    async def start_family(self, user: User, client_id: str, scope: str, audience: str,
                           client: ClientInfo, *, amr: Sequence[str],
                           family_id: str | None = None) -> TokenPair:
        """A new refresh family (one login, made with the methods ``amr``) and its first pair.

        ``family_id`` is given when it was fixed in advance (a social login's one-time code).
        """
        family = self.new_family(user, client_id, scope, audience, client, amr=amr,
                                 family_id=family_id)
        await self._families.create_family(family)
        return self.first_pair(family)

    def new_family(self, user: User, client_id: str, scope: str, audience: str,
                   client: ClientInfo, *, amr: Sequence[str],
                   family_id: str | None = None) -> RefreshFamily:
        """The family a login starts, not yet stored: a caller that stores it in its own
        transaction (the second step of a login) then answers ``first_pair``."""
        now = self._clock.now()
        s = self._policy
        return RefreshFamily(
            id=family_id or new_id(), user_id=user.id, client_id=client_id, scope=scope,
            audience=audience,
            generation=0, rotated_at=now, created_at=now, last_used_at=now,
            idle_expires_at=now + min(s.refresh_idle_ttl, s.refresh_absolute_ttl),
            absolute_expires_at=now + s.refresh_absolute_ttl,
            user_agent=(client.user_agent or "")[:512] or None, ip=client.ip, auth_time=now,
            amr=methods_of_login.normalise(amr),
        )

    def first_pair(self, family: RefreshFamily) -> TokenPair:
        """The first token pair of a stored family."""
        return self._pair(family, 0, family.scope)

    async def refresh(self, token: str, client_id: str, scope: str | None,
                      client: ClientInfo) -> TokenPair:
        presented = refresh.parse(self._refresh_key, token)
        family = await self._families.get_family(presented.family_id) if presented else None
        if presented is None or family is None or family.client_id != client_id:
            raise InvalidGrant("the refresh token is invalid")
        # The family rules act first (a replayed token with a bad scope is still theft); a
        # live token with a bad scope is refused before it is used up, so the client can retry.
        try:
            granted = family.scope if scope is None else self._narrow(scope, family.scope)
            refused = None
        except InvalidScope as exc:
            granted, refused = family.scope, exc
        event = self._audit.event(audit.REFRESH, user_id=family.user_id, client=client,
                                  sid=family.id)
        generation, rotated = await self._advance(family, presented.generation, client, event,
                                                  refused)
        user = rotated.user if rotated is not None else await self._users.get_user(family.user_id)
        if user is None or user.disabled:
            await self.revoke_family(family.id, "user_disabled")
            raise InvalidGrant("the refresh token is invalid")
        if rotated is not None:
            self._audit.announce(event)  # stored in the rotation's own commit
        else:
            await self._audit.record(event)
        return self._pair(family, generation, granted)

    async def _advance(self, family: RefreshFamily, presented: int, client: ClientInfo,
                       event: AuditEvent, refused: InvalidScope | None
                       ) -> tuple[int, Rotated | None]:
        """The generation to hand out: rotate, converge within grace, or detect theft.

        A rotation also returns what the store read and recorded in its commit (``event``).
        ``refused`` is raised where the token would be used or converge, never before theft
        detection.
        """
        s = self._policy
        for _ in range(5):
            now = self._clock.now()
            outcome = refresh.decide(family, presented, now, s.refresh_reuse_grace)
            if refused is not None and outcome in (Outcome.ROTATE, Outcome.RETURN_CURRENT):
                raise refused
            if outcome is Outcome.ROTATE:
                idle = refresh.next_idle_expiry(family, now, s.refresh_idle_ttl)
                rotated = await self._families.rotate(family.id, presented, now, idle, event)
                if rotated is not None:
                    return presented + 1, rotated
            elif outcome is Outcome.RETURN_CURRENT:
                return family.generation, None
            elif outcome is Outcome.REUSE:
                await self.revoke_family(family.id, "reuse_detected")
                await self._audit(audit.REUSE_DETECTED, user_id=family.user_id, client=client,
                                  sid=family.id, generation=presented)
                raise InvalidGrant("the refresh token was already used")
            else:
                raise InvalidGrant("the refresh token expired or was revoked")
            reloaded = await self._families.get_family(family.id)  # lost a race: look again
            if reloaded is None:
                break
            family = reloaded
        raise InvalidGrant("the refresh token is invalid")

    def _narrow(self, requested: str, granted: str) -> str:
        allowed = granted.split()
        return self.resolve_scope(requested, allowed) if requested.strip() else granted

    def _pair(self, family: RefreshFamily, generation: int, scope: str) -> TokenPair:
        access = self.issue_access(family.user_id, family.client_id, scope, family.audience,
                                   family.id, family_auth_time(family), family.amr)
        return TokenPair(access, self._policy.access_token_ttl,
                         refresh.mint(self._refresh_key, family.id, generation), scope)

    def issue_access(self, user_id: str, client_id: str, scope: str, audience: str,
                     sid: str, auth_time: float, amr: Sequence[str]) -> str:
        """An access token; ``auth_time`` and ``amr`` (OIDC Core 2) are the login behind its
        family. Families from before ``amr`` was recorded carry none (the claim is left out)."""
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            "iss": self._policy.issuer, "sub": user_id, "aud": audience,
            "exp": now + self._policy.access_token_ttl, "iat": now, "jti": new_token_id(),
            "client_id": client_id, "scope": scope, "sid": sid, "auth_time": int(auth_time),
        }
        if amr:
            claims["amr"] = list(amr)
        return jose.encode_jwt(claims, self._keys.ring.signing_key, typ=ACCESS_TOKEN_TYP)

    def issue_client_access(self, client_id: str, scope: str, audience: str) -> AccessGrant:
        """A ``client_credentials`` token: the client is its own subject.

        It carries no ``sid`` and no ``auth_time``: no user signed in, so there is no login
        to end or to be recent, and account endpoints refuse it (``core/account_access``).
        It is revoked by its ``jti`` and expires like any access token.
        """
        now = int(self._clock.now())
        claims = {
            "iss": self._policy.issuer, "sub": client_id, "aud": audience,
            "exp": now + self._policy.access_token_ttl, "iat": now, "jti": new_token_id(),
            "client_id": client_id, "scope": scope,
        }
        token = jose.encode_jwt(claims, self._keys.ring.signing_key, typ=ACCESS_TOKEN_TYP)
        return AccessGrant(token, self._policy.access_token_ttl, scope)

    async def renew_auth_time(self, claims: dict[str, Any], amr: Sequence[str]) -> str:
        """After a re-login (made with ``amr``): record it on the token's family and answer a
        fresh access token.

        The new token keeps the presented one's client, scope and audience; the
        family's later refreshes carry the new ``auth_time`` and ``amr`` too.
        """
        now = self._clock.now()
        sid = str(claims.get("sid", ""))
        methods = methods_of_login.normalise(amr)
        if not sid or not await self._families.renew_auth_time(sid, now, methods):
            raise Unauthenticated("the token's session has ended")
        return self.issue_access(str(claims["sub"]), str(claims.get("client_id", "")),
                                 str(claims.get("scope", "")), str(claims["aud"]), sid, now,
                                 methods)

    # -- Bearer tokens at authd's own endpoints ------------------------------

    def authenticate(self, token: str) -> dict[str, Any]:
        """The claims of a valid, unrevoked access token; Unauthenticated otherwise (hot path)."""
        claims = self._decode(token, self._clock.now())
        if self._revocations.is_revoked(claims.get("jti"), claims.get("sid")):
            raise Unauthenticated("the token was revoked")
        return claims

    def _decode(self, token: str, now: float) -> dict[str, Any]:
        try:
            return jose.decode_jwt(
                token, self._keys.ring.verification_keys, issuer=self._policy.issuer,
                audience=self._accepted_audiences, now=now, typ=ACCESS_TOKEN_TYP,
                required=_REQUIRED_CLAIMS,
            )
        except jose.InvalidToken as exc:
            raise Unauthenticated(_describe(exc)) from None

    # -- revocation and introspection ----------------------------------------

    async def revoke_family(self, family_id: str, reason: str) -> bool:
        """End a refresh family and deny its access tokens (by ``sid``) until they expire."""
        revoked = await self._families.revoke_family(family_id, self._clock.now(), reason)
        if revoked:
            await self.deny_family_tokens(family_id)
        return revoked

    async def deny_family_tokens(self, family_id: str) -> None:
        """Put the family's ``sid`` on the feed until its last access token has expired (also for
        a family that no longer exists: its account was deleted)."""
        await self._revocations.revoke(Revocation(
            "sid", family_id, self._clock.now() + self._policy.access_token_ttl + 60))

    async def family_exists(self, family_id: str) -> bool:
        return await self._families.get_family(family_id) is not None

    async def revoke_token(self, token: str, hint: str | None, client_id: str,
                           client: ClientInfo) -> None:
        """RFC 7009: revoke whatever the token is; unknown tokens are silently ignored."""
        order = ("refresh_token", "access_token") if hint != "access_token" else (
            "access_token", "refresh_token")
        for kind in order:
            if kind == "refresh_token" and await self._revoke_refresh(token, client_id, client):
                return
            if kind == "access_token" and await self._revoke_access(token, client):
                return

    async def _revoke_refresh(self, token: str, client_id: str, client: ClientInfo) -> bool:
        presented = refresh.parse(self._refresh_key, token)
        family = await self._families.get_family(presented.family_id) if presented else None
        if family is None or family.client_id != client_id:
            return False
        if await self.revoke_family(family.id, "revoked"):
            await self._audit(audit.REVOKE, user_id=family.user_id, client=client,
                              sid=family.id, kind="refresh_token")
        return True

    async def _revoke_access(self, token: str, client: ClientInfo) -> bool:
        claims = self._signed_access_claims(token)  # only tokens authd signed enter the feed
        if claims is None:
            return False
        exp = float(claims["exp"])
        if exp <= self._clock.now():
            return True  # expired: nothing left to deny
        if await self._revocations.revoke(Revocation("jti", str(claims["jti"]), exp)):
            # audited once: repeating a revocation must not grow the feed or the trail
            # a client's own token (no sid) names no user: its subject is the client
            user_id = str(claims["sub"]) if "sid" in claims else None
            await self._audit(audit.REVOKE, user_id=user_id, client=client,
                              jti=claims["jti"], kind="access_token")
        return True

    def _signed_access_claims(self, token: str) -> dict[str, Any] | None:
        """Claims of an access token authd signed, whatever its times say; None otherwise."""
        try:
            header, payload = jose.decode_jws(token, self._keys.ring.verification_keys)
            claims = orjson.loads(payload)
        except (jose.InvalidToken, orjson.JSONDecodeError):
            return None
        if (not isinstance(claims, dict) or claims.get("iss") != self._policy.issuer
                or str(header.get("typ", "")).lower() != ACCESS_TOKEN_TYP
                or not isinstance(claims.get("exp"), int | float) or "jti" not in claims):
            return None
        return claims

    async def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662: what authd knows about a token; ``{"active": false}`` for anything invalid."""
        try:
            claims = self.authenticate(token)
            return {"active": True, "token_type": "access_token", **claims}
        except Unauthenticated:
            pass
        presented = refresh.parse(self._refresh_key, token)
        family = await self._families.get_family(presented.family_id) if presented else None
        if presented is None or family is None:
            return {"active": False}
        now = self._clock.now()
        outcome = refresh.decide(family, presented.generation, now, 0)
        if outcome is not Outcome.ROTATE:
            return {"active": False}
        return {"active": True, "token_type": "refresh_token", "sub": family.user_id,
                "client_id": family.client_id, "scope": family.scope, "sid": family.id,
                "iat": int(family.rotated_at), "iss": self._policy.issuer,
                "auth_time": int(family_auth_time(family)), "amr": list(family.amr),
                "exp": int(min(family.idle_expires_at, family.absolute_expires_at))}


def family_auth_time(family: RefreshFamily) -> float:
    """When the user last proved who they are for this family (its creation for old rows)."""
    return family.auth_time if family.auth_time is not None else family.created_at


def _describe(exc: jose.InvalidToken) -> str:
    """A short reason for logs and error_description; never the token itself."""
    text = {
        jose.ExpiredToken: "the token expired",
        jose.NotYetValid: "the token is not valid yet",
        jose.InvalidAudience: "the token is for another audience",
        jose.InvalidIssuer: "the token is from another issuer",
        jose.InvalidType: "not an access token",
    }
    for kind, description in text.items():
        if isinstance(exc, kind):
            return description
    return "the token is invalid"
