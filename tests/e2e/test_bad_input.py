"""Nothing a client sends gets a 5xx: malformed bodies, headers and sizes are clean 4xx."""

from __future__ import annotations

import httpx
import pytest

ENDPOINTS = ["/v1/users", "/v1/token", "/v1/revoke", "/v1/introspect"]
BODIES: list[tuple[str | None, bytes]] = [
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'"string"'),
    ("application/json", b"\xff\xfe\xfd"),
    ("application/json", b'{"email": {"$ne": 1}, "password": ["x"]}'),
    ("application/json", b'{"grant_type": ["password"], "token": 5}'),
    ("application/x-www-form-urlencoded", b"\xff\xfe=\xfd"),
    ("application/x-www-form-urlencoded", b"grant_type=password&grant_type=refresh_token"),
    ("application/x-www-form-urlencoded", b"%%%=%%%&&=="),
    (None, b"grant_type=password&username=a%00b&password=x"),
    ("text/plain", b"hello"),
    ("multipart/form-data; boundary=x", b"--x--"),
    ("application/json", b""),
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(("content_type", "body"), BODIES)
def test_malformed_bodies_are_4xx(http: httpx.Client, path: str, content_type: str | None,
                                  body: bytes) -> None:
    """Malformed JSON, forms, types and media types are answered with a 4xx JSON error."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(path, content=body, headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert "error" in response.json()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_huge_bodies_are_413(http: httpx.Client, path: str) -> None:
    """Bodies over the cap are refused before they are read whole."""
    response = http.post(path, content=b"a=" + b"x" * 2_000_000,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


@pytest.mark.parametrize("head", [
    b"POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
    b"GET /v1/userinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
    b"GARBAGE\r\n\r\n",
])
def test_malformed_http_is_4xx(server, head: bytes) -> None:
    """Malformed HTTP (bad Content-Length, non-ASCII headers, garbage) gets a 4xx, never 5xx."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), status_line


@pytest.mark.parametrize("header", [
    "Bearer " + "a" * 20000, "Bearer a.b.c", "Bearer ....",
    "Bearer eyJhbGciOiJub25lIn0.e30.", "bearer", "Basic !!!!", "Digest x",
])
def test_garbage_authorization_headers_are_401(http: httpx.Client, header: str) -> None:
    """Garbage, oversized and non-ASCII Authorization headers are 401, never 5xx."""
    response = http.get("/v1/userinfo", headers={"Authorization": header})
    assert response.status_code in (400, 401, 431)


def test_garbage_basic_client_credentials_are_401(http: httpx.Client) -> None:
    """Malformed client_secret_basic credentials are invalid_client."""
    response = http.post("/v1/introspect", data={"token": "x"},
                         headers={"Authorization": "Basic %%%"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_unknown_route_and_method(http: httpx.Client) -> None:
    """Unknown routes are 404 and wrong methods 405, in the JSON error shape."""
    assert http.get("/v1/nope").json()["error"] == "not_found"
    response = http.get("/v1/token")
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("since", ["abc", "-1", "1e9", "9" * 40, "%00"])
def test_bad_feed_cursor_is_400(http: httpx.Client, since: str) -> None:
    """A cursor the feed never issued is invalid_request."""
    assert http.get("/v1/revocations", params={"since": since}).status_code == 400


@pytest.mark.parametrize("session_id", ["x" * 5000, "%2e%2e", "' OR 1=1 --"])
def test_garbage_session_ids_are_4xx(http: httpx.Client, session_id: str) -> None:
    """Garbage session ids in the path never reach a 5xx."""
    from tests.e2e.conftest import bearer, login, sign_up

    tokens = login(http, sign_up(http))
    response = http.delete(f"/v1/sessions/{session_id}", headers=bearer(tokens["access_token"]))
    assert response.status_code == 404
