"""Social-login failures, each with the answer the HTTP layer should give.

``redirect_to`` is set when the state was valid: the user is then sent back
to the app with ``error=...`` instead of seeing an authd error page.
"""

from __future__ import annotations

from authd.errors import InvalidRequest


class SocialLoginError(InvalidRequest):
    code = "invalid_request"
    redirect_to: str | None = None

    def __init__(self, description: str | None = None, redirect_to: str | None = None) -> None:
        super().__init__(description)
        self.redirect_to = redirect_to


class InvalidState(SocialLoginError):
    default_description = "the login state is missing, wrong, expired or already used"


class ProviderRefused(SocialLoginError):
    code = "access_denied"
    default_description = "the provider did not authenticate the user"


class InvalidIdToken(SocialLoginError):
    code = "invalid_grant"
    default_description = "the provider's ID token is invalid"


class ProviderUnavailable(SocialLoginError):
    """The provider could not be reached or answered something unusable: not the user's fault."""

    status = 502
    code = "temporarily_unavailable"
    default_description = "the login provider is unavailable"


class LoginRefused(SocialLoginError):
    """The provider vouched for the user, but authd's account rules say no."""

    code = "access_denied"
    default_description = "this login cannot be used"
