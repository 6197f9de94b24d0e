"""No open redirect: redirect_to must match the allow-list exactly (origin and path prefix)."""

from __future__ import annotations

import pytest

from authd.errors import InvalidRequest
from authd.oauth.redirects import check_redirect_to, remove_dot_segments

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


# Each of these passed the plain prefix check; the browser resolves them outside /auth
# (or a server behind the app reads them so), where the one-time code would arrive.
ESCAPES = [
    "https://app.example.com/auth/../evil",                 # dot segments
    "https://app.example.com/auth/x/../../evil",
    "https://app.example.com/auth/./../evil",
    "https://app.example.com/auth/..",
    "https://app.example.com/auth/../",
    "https://app.example.com/auth/x/../../../../evil",
    "https://app.example.com/auth/;/../../evil",            # ; path parameters
    "https://app.example.com/auth/..;/evil",
    "https://app.example.com/auth;x=1/callback",
    "https://app.example.com/auth/%3b/callback",             # encoded ;
    "https://app.example.com/auth/%2e%2e/evil",             # encoded dots, any case, half encoded
    "https://app.example.com/auth/%2E%2E/evil",
    "https://app.example.com/auth/.%2e/evil",
    "https://app.example.com/auth/%2e./evil",
    "https://app.example.com/auth/..%2fevil",               # encoded slash and backslash
    "https://app.example.com/auth/..%2Fevil",
    "https://app.example.com/auth/..%5cevil",
    "https://app.example.com/auth/%252e%252e/evil",         # double encoding
    "https://app.example.com/auth/%09/x",                   # encoded control characters
    "https://app.example.com/auth/%7f",
    "https://app.example.com/auth/..\\evil",               # backslashes
    "https://app.example.com/auth\\..\\evil",
    "https://app.example.com/auth//evil.test",              # empty segments
    "https://app.example.com//evil.test/auth",
    "https://app.example.com/\\evil.test/auth",
    "//evil.test/auth/callback",                            # protocol-relative
    "/\\evil.test/auth",
    "\\\\evil.test/auth",
    "https://user@app.example.com/auth/callback",           # userinfo
    "https://:@app.example.com/auth/callback",
    "https://app.example.com:443@evil.test/auth",
    "ftp://app.example.com/auth",                           # other schemes
    "javascript://app.example.com/auth/%0aalert(1)",
    "https://app.example.com/auth/\n../evil",               # control characters, whitespace
    "https://app.example.com/auth/\r/x",
    "https://app.example.com/auth/\x00",
    " https://app.example.com/auth",
    "https://app.example.com/auth/x ",
    "https://app.example.com/auth/\u2025/evil",             # Unicode that folds to ".."
    "https://app.example.com/auth/\uff0e\uff0e/evil",
    "https://app.example.com\uff0eevil.test/auth",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_escapes_from_the_allowed_path_are_refused(url: str) -> None:
    """A redirect_to that a browser or server resolves outside the allowed path is refused."""
    with pytest.raises(InvalidRequest):
        check_redirect_to(url, ALLOW)


@pytest.mark.parametrize(("url", "sent_to"), [
    ("https://app.example.com/auth/x/../done", "https://app.example.com/auth/done"),
    ("https://app.example.com/auth/./done?next=%2E%2E", "https://app.example.com/auth/done?next=%2E%2E"),
    ("https://app.example.com/auth/done/..", "https://app.example.com/auth/"),
    ("https://app.example.com/auth/.", "https://app.example.com/auth/"),
])
def test_dot_segments_inside_the_allowed_path_are_normalised(url: str, sent_to: str) -> None:
    """Dot segments that stay inside the path are resolved as a browser would, and the
    user is sent to the resolved URL: the one that was checked."""
    assert check_redirect_to(url, ALLOW) == sent_to


def test_an_allow_list_entry_for_a_whole_origin_keeps_users_on_that_origin() -> None:
    """With an entry for a whole origin, dot segments resolve inside it (as a browser does)
    and an empty segment, which the app might read as another host, is refused."""
    assert check_redirect_to("http://127.0.0.1:3000/a/../../x", ALLOW) == "http://127.0.0.1:3000/x"
    with pytest.raises(InvalidRequest):
        check_redirect_to("http://127.0.0.1:3000//evil.test", ALLOW)


@pytest.mark.parametrize(("path", "resolved"), [
    # RFC 3986 §5.4 (normal and abnormal examples, resolved against /b/c/d;p?q), as paths.
    ("/b/c/./g", "/b/c/g"), ("/b/c/g/", "/b/c/g/"), ("/b/c/../g", "/b/g"),
    ("/b/c/../..", "/"), ("/b/c/../../g", "/g"), ("/b/c/../../../g", "/g"),
    ("/b/c/../../../../g", "/g"), ("/./g", "/g"), ("/../g", "/g"), ("/b/c/g.", "/b/c/g."),
    ("/b/c/.g", "/b/c/.g"), ("/b/c/g..", "/b/c/g.."), ("/b/c/..g", "/b/c/..g"),
    ("/b/c/./../g", "/b/g"), ("/b/c/./g/.", "/b/c/g/"), ("/b/c/g/./h", "/b/c/g/h"),
    ("/b/c/g/../h", "/b/c/h"), ("/a/b/c/./../../g", "/a/g"), ("mid/content=5/../6", "mid/6"),
    ("", ""), ("/", "/"), ("/..", "/"), ("/.", "/"), ("..", ""), ("../a", "a"),
])
def test_remove_dot_segments_follows_rfc_3986(path: str, resolved: str) -> None:
    """Normalisation is the standard algorithm, so authd and browsers agree on the path."""
    assert remove_dot_segments(path) == resolved
