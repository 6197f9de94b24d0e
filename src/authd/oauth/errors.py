"""Social-login failures, each with the answer the HTTP layer should give.

They hang from the one tree in :mod:`authd.errors`: ``SocialLoginError`` only
adds ``redirect_to`` and is never raised itself; each failure carries its own
status. ``redirect_to`` is set when the state was valid: the user is then sent
back to the app with ``error=...`` instead of seeing an authd error page.
"""

from __future__ import annotations

from authd.errors import AuthdError, InvalidRequest, UpstreamUnavailable


class SocialLoginError(AuthdError):
    """A social login that cannot complete; the subclass says whose fault and how to answer."""

    redirect_to: str | None = None

    def __init__(self, description: str | None = None, redirect_to: str | None = None) -> None:
        super().__init__(description)
        self.redirect_to = redirect_to


class InvalidState(SocialLoginError, InvalidRequest):
    """400: the callback does not belong to a login this browser started."""

    default_description = "the login state is missing, wrong, expired or already used"


class ProviderRefused(SocialLoginError):
    """400: the user (or the provider) declined the login."""

    status, code = 400, "access_denied"
    default_description = "the provider did not authenticate the user"


class InvalidIdToken(SocialLoginError):
    """400: the provider's answer does not prove who the user is."""

    status, code = 400, "invalid_grant"
    default_description = "the provider's ID token is invalid"


class ProviderUnavailable(SocialLoginError, UpstreamUnavailable):
    """502: the provider could not be reached or answered something unusable: not the user's fault."""

    default_description = "the login provider is unavailable"


class LoginRefused(SocialLoginError):
    """400: the provider vouched for the user, but authd's account rules say no."""

    status, code = 400, "access_denied"
    default_description = "this login cannot be used"
