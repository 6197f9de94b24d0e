"""The keys derived from the root secret.

One root secret (``key_encryption_key`` from configuration, else a 0600 file
in ``data_dir``, read by ``authd.storage.rootsecret``) encrypts private
signing keys and pending social logins at rest and, through HKDF with a
distinct label per purpose, keys the refresh-token MAC, the sessions' CSRF tokens and the hosted pages'
form tokens.
Every instance of a scaled-out deployment must be given the same root secret.
Pure: no file I/O here, so the rules can be tested without a data folder.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@dataclass(frozen=True, slots=True)
class ServerSecrets:
    """Per-purpose keys, all derived from the root secret."""

    key_encryption: bytes
    refresh_mac: bytes
    csrf_mac: bytes
    cursor_mac: bytes  # seals the admin API's page cursors
    pseudonym_mac: bytes  # a deleted user's id in the audit trail becomes HMAC(this, id)
    form_mac: bytes  # the hosted pages' form tokens before sign-in
    passkey_decoy: bytes = b""
    passkey_challenge: bytes = b""

    @classmethod
    def from_root(cls, root: bytes) -> ServerSecrets:
        return cls(
            key_encryption=_derive(root, b"authd key-encryption v1"),
            refresh_mac=_derive(root, b"authd refresh-token v1"),
            csrf_mac=_derive(root, b"authd csrf-token v1"),
            cursor_mac=_derive(root, b"authd page-cursor v1"),
            pseudonym_mac=_derive(root, b"authd audit-pseudonym v1"),
            passkey_decoy=_derive(root, b"authd passkey-decoy v1"),
            passkey_challenge=_derive(root, b"authd passkey-challenge v1"),
            form_mac=_derive(root, b"authd page-form-token v1"),
        )

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        """AES-256-GCM with a random nonce; the associated data (the kid) binds it to its row."""
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.key_encryption).encrypt(nonce, plaintext, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        """Raises ``cryptography.exceptions.InvalidTag`` under a different root secret."""
        return AESGCM(self.key_encryption).decrypt(sealed[:12], sealed[12:], associated)


def _derive(root: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(root)

