"""The token-based half of authd, end to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64

import httpx
import orjson

from tests.e2e.conftest import PASSWORD, bearer, login, new_email, refresh, sign_up


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _header(token: str) -> dict[str, object]:
    head = token.split(".")[0]
    return orjson.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_sign_up_returns_the_account(http: httpx.Client) -> None:
    """POST /v1/users creates an account and answers 201 with its public fields."""
    email = new_email()
    response = http.post("/v1/users", json={"email": email.upper(), "password": PASSWORD,
                                            "name": "Ada"})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email and body["name"] == "Ada"
    assert set(body) == {"id", "email", "name", "created_at"}


def test_duplicate_email_is_409(http: httpx.Client) -> None:
    """A second account for the same mailbox is refused with email_taken."""
    email = sign_up(http)
    response = http.post("/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 409
    assert response.json()["error"] == "email_taken"


def test_weak_and_malformed_sign_ups_are_400(http: httpx.Client) -> None:
    """Short, common and over-long passwords and bad emails are invalid_request."""
    for body in ({"email": new_email(), "password": "short"},
                 {"email": new_email(), "password": "password123"},
                 {"email": new_email(), "password": "x" * 257},
                 {"email": "not-an-email", "password": PASSWORD},
                 {"email": 42, "password": PASSWORD},
                 {"password": PASSWORD}):
        response = http.post("/v1/users", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "invalid_request"


def test_blank_and_one_character_passwords_are_refused_at_sign_up(http: httpx.Client) -> None:
    """Eight spaces, eight ideographic spaces or "aaaaaaaa" get 400 invalid_request with a reason."""
    for password, reason in ((" " * 8, "spaces"), ("\u3000" * 8, "spaces"),
                             ("aaaaaaaa", "repeated")):
        response = http.post("/v1/users", json={"email": new_email(), "password": password})
        assert response.status_code == 400, password
        body = response.json()
        assert body["error"] == "invalid_request" and reason in body["error_description"]


def test_password_grant_issues_an_rfc9068_token_pair(http: httpx.Client, server) -> None:
    """The password grant returns a Bearer pair; the access token has the RFC 9068 claims."""
    email = sign_up(http)
    response = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                            "password": PASSWORD})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    header, claims = _header(body["access_token"]), _claims(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "sid",
                           "auth_time", "amr"}
    assert claims["amr"] == ["pwd"]  # how the login was made (RFC 8176)
    assert claims["auth_time"] == claims["iat"]  # the login that started the family
    assert claims["iss"] == server.url and claims["aud"] == server.url
    assert claims["client_id"] == "authd" and claims["exp"] - claims["iat"] == 300
    # 512 before auth_time (31 bytes) was added, 544 before amr (18 bytes for ["pwd"], 34 for
    # a password + TOTP login)
    assert len(body["access_token"]) <= 584


def test_json_token_request_is_accepted(http: httpx.Client) -> None:
    """The token endpoint also reads a JSON body."""
    email = sign_up(http)
    response = http.post("/v1/token", json={"grant_type": "password", "username": email,
                                            "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_and_unknown_user_answer_the_same(http: httpx.Client) -> None:
    """Wrong password and unknown account give an identical invalid_grant."""
    email = sign_up(http)
    wrong = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                         "password": "not the password at all"})
    unknown = http.post("/v1/token", data={"grant_type": "password",
                                           "username": new_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"


def test_userinfo_with_bearer(http: httpx.Client) -> None:
    """GET /v1/userinfo returns the profile for a valid access token."""
    email = sign_up(http)
    tokens = login(http, email)
    response = http.get("/v1/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"sub": _claims(tokens["access_token"])["sub"], "email": email,
                               "email_verified": False, "name": "Ada"}


def test_userinfo_without_or_with_bad_token_is_401_with_challenge(http: httpx.Client) -> None:
    """Missing, garbage and non-Bearer credentials are 401 with WWW-Authenticate."""
    for headers in ({}, bearer("garbage"), {"Authorization": "Basic Zm9vOmJhcg=="},
                    {"Authorization": "Bearer"}):
        response = http.get("/v1/userinfo", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_refresh_rotates_and_the_old_token_is_used_up(http: httpx.Client) -> None:
    """A refresh returns a new pair; the new refresh token works, and so does the access token."""
    tokens = login(http, sign_up(http))
    first = refresh(http, tokens["refresh_token"])
    assert first.status_code == 200
    new = first.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert _claims(new["access_token"])["sid"] == _claims(tokens["access_token"])["sid"]
    assert refresh(http, new["refresh_token"]).status_code == 200
    assert http.get("/v1/userinfo", headers=bearer(new["access_token"])).status_code == 200


def test_reuse_of_an_old_refresh_token_revokes_the_family(http: httpx.Client) -> None:
    """Presenting a used-up token (older than the parent) is theft: the whole family dies."""
    t0 = login(http, sign_up(http))
    t1 = refresh(http, t0["refresh_token"]).json()
    t2 = refresh(http, t1["refresh_token"]).json()
    stolen = refresh(http, t0["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert refresh(http, t2["refresh_token"]).status_code == 400
    assert http.get("/v1/userinfo", headers=bearer(t2["access_token"])).status_code == 401


def _respell(token: str, generation: str) -> str:
    family, _, mac = token.split(".")
    return f"{family}.{generation}.{mac}"


def test_another_spelling_of_a_refresh_token_is_refused_and_revokes_nothing(
        http: httpx.Client) -> None:
    """Only the exact token authd issued is a token: a zero-padded generation (fam.00.mac for
    fam.0.mac) gets invalid_grant, is not taken as a reuse of the family, and neither a refresh
    nor a revocation with it ends the family of the user who holds the real token."""
    t0 = login(http, sign_up(http))
    padded = _respell(t0["refresh_token"], "00")
    response = refresh(http, padded)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    t1 = refresh(http, t0["refresh_token"]).json()
    t2 = refresh(http, t1["refresh_token"]).json()
    for variant in (padded, _respell(t0["refresh_token"], "0000"), "+" + padded):
        response = refresh(http, variant)  # a used-up generation: the real one would be theft
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert http.post("/v1/revoke", data={"token": _respell(t2["refresh_token"], "02")}
                     ).status_code == 200
    assert http.get("/v1/userinfo", headers=bearer(t2["access_token"])).status_code == 200
    assert refresh(http, t2["refresh_token"]).status_code == 200


def test_parent_replay_within_grace_converges_on_the_current_token(http: httpx.Client) -> None:
    """Two tabs refreshing with the same token both end up with the same current token."""
    t0 = login(http, sign_up(http))
    tab_a = refresh(http, t0["refresh_token"]).json()
    tab_b = refresh(http, t0["refresh_token"])
    assert tab_b.status_code == 200
    assert tab_b.json()["refresh_token"] == tab_a["refresh_token"]
    assert refresh(http, tab_a["refresh_token"]).status_code == 200


def test_revoke_refresh_token_ends_its_family(http: httpx.Client) -> None:
    """RFC 7009 revocation of a refresh token kills the family and its access tokens."""
    tokens = login(http, sign_up(http))
    response = http.post("/v1/revoke", data={"token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert refresh(http, tokens["refresh_token"]).status_code == 400
    assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def test_revoke_access_token_denies_it_and_feeds_it(http: httpx.Client) -> None:
    """A revoked access token is refused by authd and appears in the revocation feed."""
    tokens = login(http, sign_up(http))
    before = http.get("/v1/revocations").json()["cursor"]
    response = http.post("/v1/revoke", data={"token": tokens["access_token"],
                                             "token_type_hint": "access_token"})
    assert response.status_code == 200
    assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
    feed = http.get("/v1/revocations", params={"since": before}).json()
    jti = _claims(tokens["access_token"])["jti"]
    assert {"jti": jti, "exp": _claims(tokens["access_token"])["exp"]} in feed["revoked"]
    assert feed["poll_after"] > 0
    # the refresh token of the same family still works: only that access token was revoked
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_revoke_unknown_token_is_200(http: httpx.Client) -> None:
    """RFC 7009: revoking an unknown or garbage token succeeds silently."""
    assert http.post("/v1/revoke", data={"token": "nope"}).status_code == 200


def test_sessions_list_and_delete_one(http: httpx.Client) -> None:
    """A user sees each login as a session and can end one of them; its tokens die."""
    email = sign_up(http)
    phone = login(http, email)
    laptop = login(http, email)
    listing = http.get("/v1/sessions", headers=bearer(laptop["access_token"]))
    assert listing.status_code == 200
    sessions = listing.json()["sessions"]
    assert len(sessions) == 2 and {s["kind"] for s in sessions} == {"token"}
    phone_sid = _claims(phone["access_token"])["sid"]
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["id"] == _claims(laptop["access_token"])["sid"]
    gone = http.delete(f"/v1/sessions/{phone_sid}", headers=bearer(laptop["access_token"]))
    assert gone.status_code == 204
    assert http.get("/v1/userinfo", headers=bearer(phone["access_token"])).status_code == 401
    assert refresh(http, phone["refresh_token"]).status_code == 400
    assert http.get("/v1/userinfo", headers=bearer(laptop["access_token"])).status_code == 200


def test_deleting_another_users_session_is_404(http: httpx.Client) -> None:
    """A session id that is not the caller's is 404 and stays alive."""
    alice = login(http, sign_up(http))
    bob = login(http, sign_up(http))
    bob_sid = _claims(bob["access_token"])["sid"]
    response = http.delete(f"/v1/sessions/{bob_sid}", headers=bearer(alice["access_token"]))
    assert response.status_code == 404
    assert http.get("/v1/userinfo", headers=bearer(bob["access_token"])).status_code == 200


def test_logout_everywhere(http: httpx.Client) -> None:
    """DELETE /v1/sessions ends every family of the user at once."""
    email = sign_up(http)
    a, b = login(http, email), login(http, email)
    assert http.delete("/v1/sessions", headers=bearer(a["access_token"])).status_code == 204
    for t in (a, b):
        assert http.get("/v1/userinfo", headers=bearer(t["access_token"])).status_code == 401
        assert refresh(http, t["refresh_token"]).status_code == 400


def test_discovery_and_jwks(http: httpx.Client, server) -> None:
    """Discovery names every endpoint; the JWKS is public-only and cacheable."""
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == server.url
    for key in ("jwks_uri", "token_endpoint", "userinfo_endpoint", "revocation_endpoint",
                "introspection_endpoint", "authd_revocations_endpoint"):
        assert doc[key].startswith(server.url)
    jwks = http.get("/.well-known/jwks.json")
    assert "max-age" in jwks.headers["cache-control"]
    keys = jwks.json()["keys"]
    assert len(keys) >= 2  # active + next
    for key in keys:
        assert {"kid", "alg", "use"} <= set(key) and "d" not in key


def test_token_kid_is_published(http: httpx.Client) -> None:
    """The kid of an issued token is in the JWKS."""
    tokens = login(http, sign_up(http))
    kids = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
    assert _header(tokens["access_token"])["kid"] in kids


def test_introspect_requires_a_confidential_client(http: httpx.Client) -> None:
    """The public client may not introspect."""
    tokens = login(http, sign_up(http))
    response = http.post("/v1/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unsupported_grant_and_missing_parameters(http: httpx.Client) -> None:
    """RFC 6749 errors for an unknown grant type and missing parameters."""
    assert http.post("/v1/token", data={"grant_type": "magic"}).json()["error"] == \
        "unsupported_grant_type"
    missing = http.post("/v1/token", data={"grant_type": "password", "username": "a@b.c"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert http.post("/v1/token", data={}).json()["error"] == "invalid_request"


def test_scope_and_audience_rules(http: httpx.Client) -> None:
    """An unknown scope is invalid_scope; an unknown audience is invalid_target."""
    email = sign_up(http)
    bad_scope = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                             "password": PASSWORD, "scope": "admin"})
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
    bad_aud = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                           "password": PASSWORD, "audience": "https://evil"})
    assert bad_aud.status_code == 400 and bad_aud.json()["error"] == "invalid_target"
    narrow = login(http, email, scope="openid")
    assert narrow["scope"] == "openid" and _claims(narrow["access_token"])["scope"] == "openid"


def test_health_and_readiness(http: httpx.Client) -> None:
    """/healthz and /readyz answer 200 when the database is reachable."""
    assert http.get("/healthz").status_code == 200
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_confidential_client_introspects_access_and_refresh_tokens(tmp_path) -> None:
    """A registered client (client_secret_basic or _post) introspects; wrong secrets are 401."""
    from authd.core.clients import new_client_secret
    from tests.e2e.conftest import start_server

    secret, hashed = new_client_secret()
    srv, _ = start_server(tmp_path, "sqlite", {"AUTHD_CLIENTS": f'{{"api": {{"secret_hash": "{hashed}"}}}}'})
    try:
        with srv.client() as http:
            tokens = login(http, sign_up(http))
            basic = http.post("/v1/introspect", data={"token": tokens["access_token"]},
                              auth=("api", secret))
            assert basic.status_code == 200
            body = basic.json()
            assert body["active"] is True and body["sub"] == _claims(tokens["access_token"])["sub"]
            assert body["client_id"] == "authd"
            post = http.post("/v1/introspect", data={"token": tokens["refresh_token"],
                                                     "client_id": "api", "client_secret": secret})
            assert post.json()["active"] is True and post.json()["token_type"] == "refresh_token"
            assert http.post("/v1/introspect", data={"token": "garbage"},
                             auth=("api", secret)).json() == {"active": False}
            wrong = http.post("/v1/introspect", data={"token": tokens["access_token"]},
                              auth=("api", "not-the-secret"))
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
            http.post("/v1/revoke", data={"token": tokens["refresh_token"]})
            after = http.post("/v1/introspect", data={"token": tokens["access_token"]},
                              auth=("api", secret))
            assert after.json() == {"active": False}
    finally:
        srv.stop()
