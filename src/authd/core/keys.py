"""Key management use cases: bootstrap on first start, rotate, reload, retire."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from authd.clock import Clock
from authd.core import audit, keyring
from authd.core.audit import Auditor
from authd.core.keyring import KeyRing
from authd.core.models import KeyRecord
from authd.core.ports import KeyStore
from authd.core.secrets import ServerSecrets

log = logging.getLogger("authd.keys")


class KeyManager:
    """Holds the current key ring; every instance reloads it from storage periodically."""

    def __init__(self, store: KeyStore, secrets: ServerSecrets, alg: str, token_ttl: float,
                 reload_interval: float, auditor: Auditor, clock: Clock, *,
                 where: str = "the database") -> None:
        self._store = store
        self._where = where  # names the key store in errors; never a credential
        self._secrets = secrets
        self._alg = alg
        # A retired key stays published until the last token it signed has
        # expired, even on an instance that learns of the rotation late.
        self._publish_for = token_ttl + reload_interval + 60.0
        self._audit = auditor
        self._clock = clock
        self._ring: KeyRing | None = None

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            raise RuntimeError("key ring not loaded")
        return self._ring

    async def start(self) -> KeyRing:
        """Load the ring, creating the first keys (or switching algorithm) if needed.

        RootSecretError, before anything is written, when the stored keys were
        sealed under another root secret: the process must stop, not serve half.
        """
        records = await self._store.list_keys()
        keyring.check_sealed_with(records, self._secrets, self._where)
        if keyring.needs_bootstrap(records, self._alg):
            await self._rotate(records, reason="bootstrap")
        return await self.reload()

    async def reload(self) -> KeyRing:
        now = self._clock.now()
        records = await self._store.list_keys()
        gone = keyring.expired(records, now)
        if gone:
            await self._store.delete_keys(gone)
        self._ring = keyring.load(records, self._secrets, now, self._where)
        return self._ring

    async def rotate(self, actor: str | None = None) -> KeyRing:
        """``authd keys rotate``: the published next key starts signing; a new next is published.

        ``actor`` (a client id, or ``cli``) is recorded in the audit trail.
        """
        await self._rotate(await self._store.list_keys(), reason="rotate", actor=actor)
        return await self.reload()

    async def records(self) -> Sequence[KeyRecord]:
        """Every stored key (the private part sealed): what ``authd keys list`` shows."""
        return await self._store.list_keys()

    async def _rotate(self, records: Sequence[KeyRecord], reason: str,
                      actor: str | None = None) -> None:
        now = self._clock.now()
        fresh_next = keyring.new_key_record(self._alg, "next", now, self._secrets)
        fresh_active = keyring.new_key_record(self._alg, "active", now, self._secrets)
        changed = keyring.rotate(records, now, self._publish_for, fresh_next, fresh_active)
        existing = {r.kid for r in records}
        for record in changed:
            if record.kid not in existing:
                await self._store.add_key(record)
        await self._store.save_key_states([r for r in changed if r.kid in existing])
        active = next(r.kid for r in changed if r.state == "active")
        by: dict[str, Any] = {"actor": actor} if actor is not None else {}
        await self._audit(audit.KEY_ROTATED, kid=active, reason=reason, **by)
        log.info("signing key rotated", extra={"kid": active, "reason": reason})
