"""The signing key ring: one active key, a published next key, retired keys until they can go.

Rules (all pure; the caller persists the result):

* publish before use: the *next* key is in the JWKS for a whole rotation
  period before it signs anything, so verifiers that cache the JWKS already
  hold it when it becomes active;
* retire after last expiry: a retired key stays published until every token
  it signed has expired (``publish_until = retired_at + token TTL + margin``);
* private halves are stored encrypted (AES-256-GCM, kid as associated data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag

from authd.core.models import KeyRecord
from authd.core.secrets import ServerSecrets
from authd.errors import RootSecretError
from authd.jose import Key, KeySet, generate_key, key_from_jwk


@dataclass(frozen=True)
class KeyRing:
    """What the server signs with and what it verifies against."""

    signing_key: Key
    verification_keys: KeySet
    records: tuple[KeyRecord, ...]

    def jwks(self) -> dict[str, Any]:
        """Public keys only: next, active and still-published retired keys."""
        return {"keys": [r.public_jwk for r in self.records if r.public_jwk is not None]}


def new_key_record(alg: str, state: str, now: float, secrets: ServerSecrets) -> KeyRecord:
    key = generate_key(alg)
    public = None if alg == "HS256" else key.public_jwk()
    sealed = secrets.seal(orjson.dumps(key.private_jwk()), key.kid.encode())
    return KeyRecord(
        kid=key.kid, alg=alg, state=state,  # type: ignore[arg-type]
        public_jwk=public, private_jwk_enc=sealed, created_at=now,
        activated_at=now if state == "active" else None,
    )


def needs_bootstrap(records: Sequence[KeyRecord], alg: str) -> bool:
    """No active key yet, or the configured algorithm changed."""
    active = _newest_active(records)
    return active is None or active.alg != alg


def rotate(records: Sequence[KeyRecord], now: float, publish_for: float,
           fresh_next: KeyRecord, fresh_active: KeyRecord | None) -> list[KeyRecord]:
    """New states after a rotation: active -> retired, next -> active, ``fresh_next`` -> next.

    ``fresh_active`` is used only when there is no published next key of the
    right algorithm (first start, or an algorithm change): then a key must
    sign at once, which is safe because verifiers refetch on an unknown kid.
    """
    changed: list[KeyRecord] = []
    upcoming = next((r for r in records if r.state == "next" and r.alg == fresh_next.alg), None)
    for record in records:
        if record.state == "active":
            changed.append(replace(record, state="retired", retired_at=now,
                                   publish_until=now + publish_for))
        elif record.state == "next" and record is not upcoming:
            changed.append(replace(record, state="retired", retired_at=now, publish_until=now))
    if upcoming is not None:
        changed.append(replace(upcoming, state="active", activated_at=now))
    elif fresh_active is not None:
        changed.append(fresh_active)
    else:
        raise ValueError("no next key to activate and no fresh active key given")
    changed.append(fresh_next)
    return changed


def expired(records: Sequence[KeyRecord], now: float) -> list[str]:
    """Kids of retired keys that no unexpired token can name any more."""
    return [r.kid for r in records
            if r.state == "retired" and r.publish_until is not None and r.publish_until <= now]


def check_sealed_with(records: Sequence[KeyRecord], secrets: ServerSecrets,
                      where: str = "the database") -> None:
    """RootSecretError unless every stored private key opens under ``secrets``.

    Checked before an instance writes anything: one started with another root
    secret must not add keys the other instances cannot open.
    """
    for record in records:
        _decrypt(record, secrets, where)


def load(records: Sequence[KeyRecord], secrets: ServerSecrets, now: float,
         where: str = "the database") -> KeyRing:
    """Decrypt the ring; RootSecretError (naming ``where``) under another root secret."""
    live = [r for r in records if r.kid not in set(expired(records, now))]
    active = _newest_active(live)
    if active is None:
        raise LookupError("no active signing key")
    keys = {r.kid: _decrypt(r, secrets, where) for r in live}
    verification = KeySet(k if k.alg == "HS256" else k.public_key() for k in keys.values())
    return KeyRing(signing_key=keys[active.kid], verification_keys=verification,
                   records=tuple(live))


def _decrypt(record: KeyRecord, secrets: ServerSecrets, where: str) -> Key:
    try:
        sealed = secrets.open(record.private_jwk_enc, record.kid.encode())
    except InvalidTag:
        raise RootSecretError(
            f"the signing keys in {where} were sealed with another root secret; "
            "start every instance with the same AUTHD_KEY_ENCRYPTION_KEY") from None
    return key_from_jwk(orjson.loads(sealed))


def _newest_active(records: Sequence[KeyRecord]) -> KeyRecord | None:
    # Two instances bootstrapping at once may both create an active key; the
    # newest wins everywhere, and the other stays published until retired.
    actives = [r for r in records if r.state == "active"]
    return max(actives, key=lambda r: (r.activated_at or 0.0, r.kid)) if actives else None
