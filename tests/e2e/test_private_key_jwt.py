"""private_key_jwt over a real authd process: machines that hold a key pair instead of a secret.

What an operator relies on: a machine configured with its public keys (inline,
or published at its own jwks_url) gets tokens with a short-lived signed
assertion at the token endpoint, introspection and revocation; every forgery,
replay or mix of methods is refused with a 4xx (never a 500); discovery tells
clients what is supported; failed client authentication at /v1/introspect is
rate-limited like at the token endpoint.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from examples.machine_client.client import generate_key, public_jwk, request_token, sign_assertion

from authd.core.clients import hash_secret
from authd.verify import TokenVerifier
from tests.assertions import (
    ASSERTION_TYPE,
    JwksServer,
    alg_none,
    claims_for,
    hs256_with_public_key,
    signed,
    tamper_payload,
    tamper_signature,
)
from tests.conftest import drop_pg_database, make_pg_database
from tests.e2e.conftest import serving
from tests.serverproc import AuthdServer, free_port

INLINE, REMOTE, SECRETIVE = "inline-robot", "remote-robot", "secret-robot"
SECRET = "secret-robot-secret-" + "s" * 24
INLINE_KEY, REMOTE_KEY, STRANGER_KEY = generate_key(), generate_key(), generate_key()
BILLING = "https://billing.example.com"


def _toml_table(value: Any) -> str:
    """A JSON value as TOML (inline tables and arrays of strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_table(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[ " + ", ".join(_toml_table(v) for v in value) + " ]"
    return json.dumps(value)


def _config(path: Path, jwks_url: str) -> Path:
    """The operator's TOML: keys inline, keys at a URL, and a secret-only machine."""
    path.write_text(f"""
[clients.{INLINE}]
jwks = {_toml_table({"keys": [public_jwk(INLINE_KEY)]})}
scopes = ["invoices:read"]
audiences = ["{BILLING}"]

[clients.{REMOTE}]
jwks_url = "{jwks_url}"
token_endpoint_auth_method = "private_key_jwt"
scopes = ["reports:read"]

[clients.{SECRETIVE}]
secret_hash = "{hash_secret(SECRET)}"
scopes = ["reports:read"]
""")
    return path


@contextlib.contextmanager
def _serve(tmp: Path, backend: str, env: dict[str, str] | None = None
           ) -> Iterator[tuple[AuthdServer, JwksServer]]:
    """authd with the three machines, and the remote machine's JWKS server."""
    with JwksServer({"keys": [public_jwk(REMOTE_KEY)]}) as jwks, serving(
            tmp, backend, {"AUTHD_CONFIG": str(_config(tmp / "authd.toml", jwks.url)),
                           **(env or {})}) as server:
        yield server, jwks


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def machines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[AuthdServer, JwksServer]]:
    """One real server per backend (relaxed rate limits), with the JWKS server of REMOTE."""
    with _serve(tmp_path_factory.mktemp(f"private-key-jwt-{request.param}"), request.param) as both:
        yield both


@pytest.fixture
def server(machines: tuple[AuthdServer, JwksServer]) -> AuthdServer:
    """The shared authd process."""
    return machines[0]


@pytest.fixture
def http(server: AuthdServer) -> Iterator[httpx.Client]:
    """A keep-alive client of the shared server."""
    with server.client() as client:
        yield client


def _assert(server: AuthdServer, key: ec.EllipticCurvePrivateKey, client_id: str) -> str:
    return sign_assertion(key, client_id, f"{server.url}/v1/token")


def _token(http: httpx.Client, assertion: str, **fields: str) -> httpx.Response:
    return http.post("/v1/token", data={"grant_type": "client_credentials",
                                        "client_assertion_type": ASSERTION_TYPE,
                                        "client_assertion": assertion, **fields})


def test_an_inline_key_machine_gets_a_token_that_verifies(server: AuthdServer,
                                                          http: httpx.Client) -> None:
    """The example client's request gives the machine's own token for its API."""
    body = request_token(http, server.url, INLINE, INLINE_KEY)
    assert "refresh_token" not in body and body["scope"] == "invoices:read"
    with TokenVerifier(issuer=server.url, audience=BILLING) as verifier:
        claims = verifier.verify(body["access_token"])
    assert claims["sub"] == claims["client_id"] == INLINE


def test_a_jwks_url_machine_gets_a_token_and_its_keys_are_cached(
        machines: tuple[AuthdServer, JwksServer], http: httpx.Client) -> None:
    """authd fetches the client's published keys, then serves from its cache."""
    server, jwks = machines
    for _ in range(3):
        response = _token(http, _assert(server, REMOTE_KEY, REMOTE), client_id=REMOTE)
        assert response.status_code == 200, response.text
    assert jwks.fetches == 1


def test_the_issuer_is_an_accepted_audience_too(server: AuthdServer, http: httpx.Client) -> None:
    """OIDC Core 9 lets the audience be the issuer as well as the token endpoint."""
    response = _token(http, sign_assertion(INLINE_KEY, INLINE, server.url))
    assert response.status_code == 200, response.text


ATTACKS = {
    "replayed": lambda url, replay: replay,
    "wrong aud": lambda url, _: signed(INLINE_KEY, claims_for(INLINE, "https://other/v1/token",
                                                                _now())),
    "expired": lambda url, _: signed(INLINE_KEY, claims_for(INLINE, url, _now() - 600)),
    "far-future exp": lambda url, _: signed(INLINE_KEY, claims_for(INLINE, url, _now(),
                                                                     exp=int(_now()) + 86_400)),
    "alg none": lambda url, _: alg_none(INLINE_KEY, claims_for(INLINE, url, _now())),
    "HS256 with the public key": lambda url, _: hs256_with_public_key(
        INLINE_KEY, claims_for(INLINE, url, _now())),
    "unknown kid": lambda url, _: signed(INLINE_KEY, claims_for(INLINE, url, _now()),
                                         {"alg": "ES256", "kid": "not-a-registered-kid"}),
    "another client's key": lambda url, _: sign_assertion(REMOTE_KEY, INLINE, url),
    "a stranger's key": lambda url, _: sign_assertion(STRANGER_KEY, INLINE, url),
    "tampered payload": lambda url, _: tamper_payload(sign_assertion(INLINE_KEY, INLINE, url),
                                                      scope="admin", jti="new"),
    "tampered signature": lambda url, _: tamper_signature(sign_assertion(INLINE_KEY, INLINE, url)),
    "iss is not sub": lambda url, _: signed(INLINE_KEY, claims_for(INLINE, url, _now(),
                                                                   iss=REMOTE)),
    "garbage": lambda url, _: "ey.garbage.!!",
    "for a secret-only client": lambda url, _: sign_assertion(INLINE_KEY, SECRETIVE, url),
}


def _now() -> float:
    import time
    return time.time()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_forged_or_replayed_assertion_is_401_invalid_client(
        server: AuthdServer, http: httpx.Client, attack: str) -> None:
    """Each attack of the list is 401 invalid_client (never a token, never a 500)."""
    url = f"{server.url}/v1/token"
    replay = sign_assertion(INLINE_KEY, INLINE, url)
    assert _token(http, replay).status_code == 200
    response = _token(http, ATTACKS[attack](url, replay))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def test_mixing_methods_or_half_an_assertion_is_400(server: AuthdServer,
                                                    http: httpx.Client) -> None:
    """An assertion with a secret (form or Basic), a wrong assertion type, or only one of the
    two fields is a malformed request."""
    assertion = _assert(server, INLINE_KEY, INLINE)
    answers = [
        _token(http, assertion, client_secret=SECRET),
        http.post("/v1/token", auth=(SECRETIVE, SECRET), data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}),
        http.post("/v1/token", data={"grant_type": "client_credentials",
                                     "client_assertion_type": "urn:example:saml",
                                     "client_assertion": assertion}),
        http.post("/v1/token", data={"grant_type": "client_credentials",
                                     "client_assertion": assertion}),
        http.post("/v1/token", data={"grant_type": "client_credentials",
                                     "client_assertion_type": ASSERTION_TYPE}),
    ]
    for response in answers:
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"


def test_a_key_machine_cannot_fall_back_to_a_secret(
        server: AuthdServer, http: httpx.Client) -> None:
    """The registration's method is the only one: no fallback to the weaker credential (the
    other way round, an assertion for a secret-only client, is in the attack list)."""
    by_secret = http.post("/v1/token", data={"grant_type": "client_credentials"},
                          auth=(INLINE, "a-guessed-secret"))
    assert by_secret.status_code == 401 and by_secret.json()["error"] == "invalid_client"


def test_introspection_and_revocation_accept_an_assertion(server: AuthdServer,
                                                          http: httpx.Client) -> None:
    """A key machine introspects and revokes with a fresh assertion each time."""
    token = request_token(http, server.url, INLINE, INLINE_KEY)["access_token"]
    form = {"client_assertion_type": ASSERTION_TYPE, "token": token}
    seen = http.post("/v1/introspect", data={
        **form, "client_assertion": _assert(server, INLINE_KEY, INLINE)})
    assert seen.status_code == 200 and seen.json()["active"] is True, seen.text
    revoked = http.post("/v1/revoke", data={
        **form, "client_assertion": _assert(server, INLINE_KEY, INLINE)})
    assert revoked.status_code == 200, revoked.text
    forged = http.post("/v1/introspect", data={
        **form, "client_assertion": sign_assertion(STRANGER_KEY, INLINE, f"{server.url}/v1/token")})
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_client"


def test_discovery_lists_private_key_jwt_and_its_algorithms(http: httpx.Client) -> None:
    """Clients find the method and the asymmetric algorithms they may sign with (no HS*)."""
    document = http.get("/.well-known/openid-configuration").json()
    for name in ("token_endpoint", "introspection_endpoint", "revocation_endpoint"):
        assert "private_key_jwt" in document[f"{name}_auth_methods_supported"]
        algs = document[f"{name}_auth_signing_alg_values_supported"]
        assert "ES256" in algs and not any(a.startswith("HS") or a == "none" for a in algs)


@pytest.mark.parametrize("endpoint", ["/v1/token", "/v1/introspect"])
def test_failed_client_authentication_locks_the_client_with_429(tmp_path: Path,
                                                                endpoint: str) -> None:
    """After 3 failures (the account limit here) at the token endpoint or introspection, even
    a right secret or an honest assertion gets 429 with Retry-After; others are not locked."""
    env = {"AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "3"}
    with _serve(tmp_path, "sqlite", env) as (server, _), server.client() as http:
        form = {"grant_type": "client_credentials", "token": "x"}
        for _ in range(3):
            assert http.post(endpoint, data=form, auth=(SECRETIVE, "guess")).status_code == 401
            forged = sign_assertion(STRANGER_KEY, INLINE, f"{server.url}/v1/token")
            assert _post_assertion(http, endpoint, forged, form).status_code == 401
        locked = [http.post(endpoint, data=form, auth=(SECRETIVE, SECRET)),
                  _post_assertion(http, endpoint, _assert(server, INLINE_KEY, INLINE), form)]
        for response in locked:
            assert response.status_code == 429, response.text
            assert int(response.headers["retry-after"]) > 0
        fine = _post_assertion(http, endpoint, _assert(server, REMOTE_KEY, REMOTE), form)
        assert fine.status_code == 200, fine.text


def _post_assertion(http: httpx.Client, endpoint: str, assertion: str,
                    form: dict[str, str]) -> httpx.Response:
    return http.post(endpoint, data={**form, "client_assertion_type": ASSERTION_TYPE,
                                     "client_assertion": assertion})


@pytest.mark.parametrize("made_by", ["example", "openssl"])
def test_the_example_script_gets_a_token_with_a_key_it_or_openssl_made(
        tmp_path: Path, made_by: str) -> None:
    """The documented steps, run as a user would: make a key (the example's keygen, or
    openssl), register the printed JWKS, and get a token with the example's token command."""
    key_file = tmp_path / "robot-key.pem"
    if made_by == "openssl":
        if shutil.which("openssl") is None:
            pytest.skip("openssl is not installed")
        generated = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey",
                                    "-noout"], capture_output=True, check=True, timeout=30)
        subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-out", str(key_file)],
                       input=generated.stdout, check=True, timeout=30)
        printed = _example("jwks", str(key_file))
    else:
        printed = _example("keygen", str(key_file))
    toml = tmp_path / "authd.toml"
    toml.write_text(f"[clients.example-robot]\njwks = {_toml_table(json.loads(printed))}\n"
                    'scopes = ["reports:read"]\n')
    with serving(tmp_path, "sqlite", {"AUTHD_CONFIG": str(toml)}) as server:
        body = json.loads(_example("token", server.url, "example-robot", str(key_file)))
    assert body["scope"] == "reports:read" and body["token_type"] == "Bearer"


def _example(*args: str) -> str:
    """Run the example script as a command and return what it printed."""
    done = subprocess.run([sys.executable, "-m", "examples.machine_client.client", *args],
                          capture_output=True, text=True, check=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    return done.stdout


@pytest.mark.parametrize("body", [
    {"client_assertion": 5, "client_assertion_type": ASSERTION_TYPE},
    {"client_assertion": ["a", "b"], "client_assertion_type": ASSERTION_TYPE},
    {"client_assertion": "x" * 6000, "client_assertion_type": ASSERTION_TYPE},
    {"client_assertion": "e30.e30.", "client_assertion_type": ASSERTION_TYPE},
    {"client_assertion": "a.b.c", "client_assertion_type": ASSERTION_TYPE,
     "client_id": "no-such-robot"},
    {"client_assertion": "a.b.c", "client_assertion_type": ["x"]},
])
@pytest.mark.parametrize("path", ["/v1/token", "/v1/introspect", "/v1/revoke"])
def test_malformed_assertions_in_json_or_form_are_4xx_never_500(
        http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    """Wrong JSON types, oversized or empty-signature tokens and unknown clients: a clean
    400 or 401 at every endpoint that authenticates clients."""
    full = {"grant_type": "client_credentials", "token": "t", **body}
    answers = [http.post(path, json=full)]
    if all(isinstance(v, str) for v in full.values()):
        answers.append(http.post(path, data=full))
    for response in answers:
        assert response.status_code in (400, 401), response.text
        assert response.json()["error"] in ("invalid_request", "invalid_client")


def test_an_assertion_used_at_one_instance_is_refused_at_another(tmp_path: Path) -> None:
    """Two instances behind one issuer share the jti record (PostgreSQL): an assertion copied
    off the wire after its use at A is refused at B, and the other way round."""
    database = make_pg_database()
    issuer_port = free_port()
    with JwksServer({"keys": [public_jwk(REMOTE_KEY)]}) as jwks, ExitStack() as stack:
        shared = {"AUTHD_ISSUER": f"http://127.0.0.1:{issuer_port}",
                  "AUTHD_CONFIG": str(_config(tmp_path / "authd.toml", jwks.url)),
                  "AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32)}
        a = AuthdServer(tmp_path / "a", database_url=database, env=shared, port=issuer_port)
        b = AuthdServer(tmp_path / "b", database_url=database, env=shared)
        for instance in (a, b):
            instance.start()
            stack.callback(instance.stop)
        with a.client() as at_a, b.client() as at_b:
            for first, second in ((at_a, at_b), (at_b, at_a)):
                assertion = _assert(a, INLINE_KEY, INLINE)
                assert _token(first, assertion).status_code == 200
                replay = _token(second, assertion)
                assert replay.status_code == 401, replay.text
                assert replay.json()["error"] == "invalid_client"
    drop_pg_database(database)
