"""The passkey relying party from the settings: defaults follow the issuer; a configured rp id
and extra origins are checked at start-up, where a mistake is one clear sentence."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from authd.config import Settings


def test_the_relying_party_defaults_to_the_issuer() -> None:
    """Without [webauthn], passkeys belong to the issuer's host and only its origin may use them."""
    settings = Settings(issuer="https://id.example.com")
    assert settings.webauthn_rp_id == "id.example.com"
    assert settings.webauthn_origins == ("https://id.example.com",)


def test_a_parent_domain_serves_the_apps_of_its_subdomains() -> None:
    """rp_id example.com lets pages on app.example.com register and use the same passkeys."""
    settings = Settings(issuer="https://id.example.com",
                        webauthn={"rp_id": "Example.com", "origins": ["https://app.example.com/"]})
    assert settings.webauthn_rp_id == "example.com"
    assert settings.webauthn_origins == ("https://id.example.com", "https://app.example.com")


@pytest.mark.parametrize("webauthn", [
    {"rp_id": "other.example"},                       # not the issuer's domain
    {"rp_id": "https://example.com"},                 # a URL, not a domain
    {"origins": ["https://app.other.example"]},       # outside the issuer's host
    {"origins": ["http://app.example.com"]},          # plain http off loopback
    {"origins": ["https://app.example.com/login"]},   # not an origin
])
def test_a_relying_party_browsers_would_refuse_is_refused_at_start(webauthn: dict[str, object]) -> None:
    """Settings that browsers would reject at every ceremony stop the server instead."""
    with pytest.raises(ValidationError):
        Settings(issuer="https://id.example.com", webauthn=webauthn)
