"""A software WebAuthn authenticator and browser, for tests: what ``navigator.credentials``
would answer, built from ``cryptography`` and CBOR.

It makes ES256 or EdDSA credentials with attestation ``none``, and every part
a test needs to bend is a parameter: the origin and rp id it claims, the
user-presence and user-verification flags, the signature counter (a credential's
``sign_count`` is a plain attribute; ``counter_step`` 0 keeps it still).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

Alg = Literal["ES256", "EdDSA"]
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One credential held by the authenticator: its private key never leaves it."""

    credential_id: bytes
    alg: Alg
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_key(self) -> bytes:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            numbers = self.key.public_key().public_numbers()
            return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})
        raw = self.key.public_key().public_bytes_raw()
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.key.sign(data)


@dataclass
class SoftAuthenticator:
    """A platform authenticator with a built-in browser: it answers options for ``origin``."""

    origin: str
    credentials: list[SoftCredential] = field(default_factory=list)

    def create(self, options: dict[str, Any], *, alg: Alg = "ES256", origin: str | None = None,
               rp_id: str | None = None, uv: bool = True, up: bool = True,
               challenge: str | None = None, reuse: SoftCredential | None = None
               ) -> dict[str, Any]:
        """``navigator.credentials.create(options)``: a new credential, remembered here (or,
        with ``reuse``, one it made before: what a broken or malicious authenticator sends)."""
        key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = (
            ec.generate_private_key(ec.SECP256R1()) if alg == "ES256"
            else ed25519.Ed25519PrivateKey.generate())
        rp = rp_id or options["rp"].get("id")
        credential = reuse or SoftCredential(secrets.token_bytes(32), alg, key, rp,
                                             unb64url(options["user"]["id"]))
        if reuse is None:
            self.credentials.append(credential)
        client_data = self._client_data("webauthn.create", challenge or options["challenge"], origin)
        attested = (bytes(16) + struct.pack(">H", len(credential.credential_id))
                    + credential.credential_id + credential.cose_key())
        auth_data = self._auth_data(rp, _flags(up, uv) | AT, credential.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id),
                "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal", "hybrid"]}}

    def get(self, options: dict[str, Any], *, credential: SoftCredential | None = None,
            origin: str | None = None, rp_id: str | None = None, uv: bool = True, up: bool = True,
            counter_step: int = 1, challenge: str | None = None, user_handle: bool = True
            ) -> dict[str, Any]:
        """``navigator.credentials.get(options)``: an assertion by ``credential`` (default: the
        first allowed one, or the newest for a discoverable request)."""
        chosen = credential or self._choose(options)
        chosen.sign_count += counter_step
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        auth_data = self._auth_data(rp_id or chosen.rp_id, _flags(up, uv), chosen.sign_count)
        signature = chosen.sign(auth_data + hashlib.sha256(client_data).digest())
        response = {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature)}
        if user_handle:
            response["userHandle"] = b64url(chosen.user_handle)
        return {"id": b64url(chosen.credential_id), "rawId": b64url(chosen.credential_id),
                "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {}, "response": response}

    def _choose(self, options: dict[str, Any]) -> SoftCredential:
        allowed = {unb64url(c["id"]) for c in options.get("allowCredentials") or []}
        for credential in reversed(self.credentials):
            if not allowed or credential.credential_id in allowed:
                return credential
        raise LookupError("no credential of this authenticator is allowed")

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)


def _flags(up: bool, uv: bool) -> int:
    return (UP if up else 0) | (UV if uv else 0)


def tamper(assertion: dict[str, Any]) -> dict[str, Any]:
    """The same assertion with one bit of its signature flipped."""
    signature = bytearray(unb64url(assertion["response"]["signature"]))
    signature[-1] ^= 0x01
    return {**assertion, "response": {**assertion["response"], "signature": b64url(bytes(signature))}}
