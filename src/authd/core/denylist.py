"""The in-memory set of revoked access-token ids and family/session ids.

Checked on every Bearer request, so it is a dict lookup; entries leave when
the tokens they could affect have expired anyway.
"""

from __future__ import annotations

from authd.core.models import Revocation


class Denylist:
    def __init__(self) -> None:
        self._jti: dict[str, float] = {}
        self._sid: dict[str, float] = {}
        self.cursor = 0

    def add(self, revocation: Revocation) -> None:
        target = self._jti if revocation.kind == "jti" else self._sid
        target[revocation.value] = max(target.get(revocation.value, 0.0), revocation.expires_at)

    def is_revoked(self, jti: str | None, sid: str | None) -> bool:
        return (jti is not None and jti in self._jti) or (sid is not None and sid in self._sid)

    def prune(self, now: float) -> None:
        for table in (self._jti, self._sid):
            for value in [v for v, exp in table.items() if exp <= now]:
                del table[value]

    def __len__(self) -> int:
        return len(self._jti) + len(self._sid)
