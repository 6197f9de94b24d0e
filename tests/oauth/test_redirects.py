"""No open redirect: redirect_to must match the allow-list exactly (origin and path prefix)."""

from __future__ import annotations

import pytest

from authd.errors import InvalidRequest
from authd.oauth.redirects import check_redirect_to

ALLOW = ["https://app.example.com/auth", "http://127.0.0.1:3000/"]


@pytest.mark.parametrize("url", [
    "https://app.example.com/auth",
    "https://app.example.com/auth/",
    "https://app.example.com/auth/callback?next=%2Fhome",
    "https://app.example.com:443/auth/done",
    "http://127.0.0.1:3000/",
    "http://127.0.0.1:3000/anything/at/all#frag",
])
def test_allowed_targets(url: str) -> None:
    """Exact origin and a path under the entry's path are allowed."""
    assert check_redirect_to(url, ALLOW) == url


@pytest.mark.parametrize("url", [
    "https://evil.example/auth",                        # other host
    "https://app.example.com.evil.test/auth",           # suffix trick
    "https://app.example.com@evil.test/auth",           # userinfo trick
    "https://evil.test@app.example.com/auth",           # userinfo of any kind
    "//evil.test/auth",                                 # protocol-relative
    "/\\evil.test",                                     # backslash
    "https://app.example.com\\@evil.test/auth",         # backslash in authority
    "/auth/callback",                                   # relative
    "http://app.example.com/auth",                      # scheme downgrade
    "https://app.example.com:8443/auth",                # other port
    "https://app.example.com/auth-evil",                # prefix without segment boundary
    "https://app.example.com/authx/y",
    "https://app.example.com/auth/%2F%2Fevil.test",     # encoded slashes
    "https://app.example.com/auth/%2e%2e/admin",        # encoded dots
    "https://app.example.com/auth/%5cevil",             # encoded backslash
    "https://app.example.com/auth/\t",                  # control characters
    "https://app.example.com/auth/ x",                  # whitespace
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:///auth",
    "https://app.example.com:99999/auth",               # bad port
    "",
    "https://app.example.com/auth/" + "a" * 3000,       # oversized
])
def test_refused_targets(url: str) -> None:
    """Every trick is refused with invalid_request."""
    with pytest.raises(InvalidRequest):
        check_redirect_to(url, ALLOW)


def test_empty_allow_list_allows_nothing() -> None:
    """With no configured entries, no redirect is allowed."""
    with pytest.raises(InvalidRequest):
        check_redirect_to("https://app.example.com/auth", [])
