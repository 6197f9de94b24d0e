"""The server's denylist: the one structure ``authd.jose.Denylist``, fed with revocation records.

Checked on every Bearer request, so it is a dict lookup; entries leave when
the tokens they could affect have expired anyway. ``authd.verify`` keeps its
copy of the feed in the same structure, so the two cannot disagree on what
"revoked" means. This subclass only adds what the server needs: adding a
stored ``Revocation`` and the feed cursor this instance has read up to.
"""

from __future__ import annotations

from authd import jose
from authd.core.models import Revocation


class Denylist(jose.Denylist):
    def __init__(self) -> None:
        super().__init__()
        self.cursor = 0

    def add(self, revocation: Revocation) -> None:
        self.revoke(revocation.kind, revocation.value, revocation.expires_at)
