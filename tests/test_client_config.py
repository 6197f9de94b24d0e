"""[clients.<id>]: a secret or public keys, never both; bad keys and audiences named in one line.

What an operator relies on: a configuration that would let a client authenticate
more weakly than intended (a secret next to its keys, a symmetric or private key
in its JWKS) or that names an audience no API could match is refused at start-up
with one sentence saying what to fix, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from examples.machine_client.client import generate_key, public_jwk

from authd.config import ConfigError, load_settings
from authd.core.clients import hash_secret

PUBLIC = public_jwk(generate_key())
JWKS = {"keys": [PUBLIC]}


def _problems(client: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(clients={"robot": client})
    return caught.value.problems


def test_keys_infer_private_key_jwt_and_a_secret_infers_the_secret_methods() -> None:
    """Without token_endpoint_auth_method, the credential decides; explicit methods are kept."""
    settings = load_settings(clients={
        "keys": {"jwks": JWKS}, "url": {"jwks_url": "https://robot.example/jwks.json"},
        "secret": {"secret_hash": hash_secret("s" * 40)},
        "post": {"secret_hash": hash_secret("s" * 40),
                 "token_endpoint_auth_method": "client_secret_post"},
        "loopback": {"jwks_url": "http://127.0.0.1:9999/jwks.json"}})
    methods = {cid: c.auth_methods for cid, c in settings.clients.items()}
    assert methods == {"keys": ("private_key_jwt",), "url": ("private_key_jwt",),
                       "secret": ("client_secret_basic", "client_secret_post"),
                       "post": ("client_secret_post",), "loopback": ("private_key_jwt",)}


@pytest.mark.parametrize(("client", "says"), [
    ({"jwks": JWKS, "secret_hash": hash_secret("s" * 40)}, "not both"),
    ({"jwks": JWKS, "jwks_url": "https://robot.example/jwks.json"}, "jwks or jwks_url"),
    ({"jwks": {"keys": [{**PUBLIC, "d": "AAAA"}]}}, "private key"),
    ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "symmetric"),
    ({"jwks": {"keys": []}}, "non-empty keys"),
    ({"jwks": {"keys": [{**PUBLIC, "x": "AAAA"}]}}, "not usable"),
    ({"jwks_url": "http://robot.example/jwks.json"}, "https"),
    ({"token_endpoint_auth_method": "private_key_jwt",
      "secret_hash": hash_secret("s" * 40)}, "needs the client's public keys"),
    ({"token_endpoint_auth_method": "client_secret_basic", "jwks": JWKS}, "needs a secret_hash"),
    ({"audiences": ["https://billing.example.com", "billing api"]}, "whitespace"),
    ({"audiences": [""]}, "non-empty"),
    ({"audiences": ["https://"]}, "absolute"),
])
def test_a_bad_client_is_refused_in_one_sentence(client: dict[str, Any], says: str) -> None:
    """Each mistake is one problem line naming the client's setting and what to do."""
    [problem] = _problems(client)
    assert problem.startswith("clients.robot") and says in problem and "\n" not in problem


def test_good_audiences_pass() -> None:
    """Absolute URIs (https, urn) and plain names without whitespace are audiences."""
    settings = load_settings(clients={"robot": {"secret_hash": hash_secret("s" * 40), "audiences": [
        "https://billing.example.com", "urn:example:ledger", "ledger-api"]}})
    assert settings.clients["robot"].audiences[1] == "urn:example:ledger"


def test_config_check_names_the_problem_without_a_traceback(tmp_path: Path) -> None:
    """`authd config check` on a TOML with a private key in jwks says so in one line."""
    import subprocess
    import sys

    toml = tmp_path / "authd.toml"
    jwk = ", ".join(f'{k} = "{v}"' for k, v in {**PUBLIC, "d": "AAAA"}.items())
    toml.write_text(f"[clients.robot]\njwks = {{ keys = [ {{ {jwk} }} ] }}\n")
    done = subprocess.run([sys.executable, "-m", "authd.cli", "config", "check"],
                          env={"AUTHD_CONFIG": str(toml), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "private key" in done.stderr + done.stdout and "Traceback" not in done.stderr
