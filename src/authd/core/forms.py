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
"""

from __future__ import annotations

import hmac

from authd.core.ids import b64url, new_secret
from authd.errors import CsrfFailed

MAX_BINDING_LENGTH = 128
_LABEL = b"authd form v1|"


class FormTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

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
