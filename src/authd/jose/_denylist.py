"""The denylist: revoked token ids (``jti``) and family/session ids (``sid``).

One structure for the server (fed from its revocation store) and for
``authd.verify`` (fed from the public revocation feed). It is checked on every
request, so a check is two dict lookups; an entry is kept until the expiry of
the tokens it can affect (after which they are refused as expired anyway).
Memory can be bounded: past ``max_entries`` the entries expiring soonest go
first. Pure: time is passed in.
"""

from __future__ import annotations

from typing import Literal

RevocationKind = Literal["jti", "sid"]


class Denylist:
    """Revoked ``jti`` and ``sid`` values, each with the expiry of what it revokes."""

    def __init__(self, max_entries: int | None = None) -> None:
        self.max_entries = max_entries
        self._jti: dict[str, float] = {}
        self._sid: dict[str, float] = {}

    def revoke(self, kind: RevocationKind, value: str, expires_at: float) -> None:
        """Deny ``value`` until ``expires_at``; a repeated entry keeps the later expiry."""
        table = self._jti if kind == "jti" else self._sid
        table[value] = max(table.get(value, float("-inf")), expires_at)

    def is_revoked(self, jti: object, sid: object) -> bool:
        """Whether a token with these claims is revoked; claims that are not strings never match."""
        return ((isinstance(jti, str) and jti in self._jti)
                or (isinstance(sid, str) and sid in self._sid))

    def prune(self, now: float) -> None:
        """Forget entries whose tokens have expired, then enforce ``max_entries``."""
        for table in (self._jti, self._sid):
            for value in [v for v, exp in table.items() if exp <= now]:
                del table[value]
        excess = len(self) - self.max_entries if self.max_entries is not None else 0
        if excess > 0:  # drop the entries that would expire soonest
            merged = sorted([(exp, "j", v) for v, exp in self._jti.items()] +
                            [(exp, "s", v) for v, exp in self._sid.items()])[:excess]
            for _, kind, value in merged:
                (self._jti if kind == "j" else self._sid).pop(value, None)

    def __len__(self) -> int:
        return len(self._jti) + len(self._sid)
