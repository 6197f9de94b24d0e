"""CSRF tokens for the hosted pages' forms, before anyone is signed in.

A signed-in form carries the session's own CSRF token (``CookieSessionService``).
A form shown to a visitor without a session (login, sign-up, forgot password)
has nothing server-side to bind to, so its token is bound to a random
pre-session cookie: the token is an HMAC of that cookie's value under a key
derived from the root secret (``ServerSecrets.form_mac``). A page on another
site can make the browser send the cookie but can neither read it nor compute
the MAC, so it cannot forge the form field ("double submit", signed). Tokens
are stateless: nothing is stored, and every instance that shares the root
secret accepts them.

``seal``/``open`` carry a small record between two pages of one sign-in (the
sign-in waiting for its second factor) in a cookie: AES-256-GCM under a key
derived from the same root, bound to the pre-session cookie, so the browser
can neither read nor alter it, nor move it to another browser.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authd.core.ids import b64url, new_secret
from authd.errors import CsrfFailed

MAX_BINDING_LENGTH = 128
_LABEL = b"authd form v1|"
_SEAL_LABEL = b"authd form seal v1"
_SEALED_LABEL = b"authd sealed form record v1|"
MAX_SEALED_LENGTH = 2048


class FormTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._aead = AESGCM(hmac.digest(key, _SEAL_LABEL, "sha256"))

    @staticmethod
    def new_binding() -> str:
        """A fresh value for the pre-session cookie: 256 random bits."""
        return new_secret()

    def token(self, binding: str) -> str:
        """The form token for a pre-session cookie value."""
        return b64url(hmac.digest(self._key, _LABEL + binding.encode("utf-8", "replace"), "sha256"))

    def check(self, binding: str | None, presented: str | None) -> None:
        """CsrfFailed unless ``presented`` is the token of ``binding`` (constant time)."""
        if not binding or len(binding) > MAX_BINDING_LENGTH or not presented:
            raise CsrfFailed()
        expected = self.token(binding).encode()
        if not hmac.compare_digest(presented.encode("utf-8", "replace"), expected):
            raise CsrfFailed()

    def seal(self, binding: str, record: bytes) -> str:
        """``record`` encrypted for the pre-session cookie ``binding``, as base64url text."""
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, record, _SEALED_LABEL + binding.encode())
        return b64url(sealed)

    def open(self, binding: str | None, sealed: str | None) -> bytes | None:
        """The record ``seal`` made for ``binding``; None if missing, altered or another's."""
        if not binding or not sealed or len(sealed) > MAX_SEALED_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            if b64url(raw) != sealed:  # one spelling only: no spare bits to vary
                return None
            return self._aead.decrypt(raw[:12], raw[12:], _SEALED_LABEL + binding.encode())
        except (InvalidTag, ValueError, binascii.Error):
            return None
