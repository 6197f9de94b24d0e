"""A backend job that authenticates to authd with a key pair instead of a secret (private_key_jwt).

authd keeps only the public key; the private key never leaves this machine.
Each token request carries a short-lived JWT signed with it (RFC 7523).
Needs only ``cryptography`` and ``httpx``.

    python -m examples.machine_client.client keygen robot-key.pem > robot-jwks.json
    # put the JSON into [clients.billing-robot] jwks = ... (or serve it at jwks_url)
    python -m examples.machine_client.client token http://localhost:8000 billing-robot robot-key.pem

A key made with openssl works the same; ``jwks`` prints its public JWKS:

    openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out robot-key.pem
    python -m examples.machine_client.client jwks robot-key.pem > robot-jwks.json
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A new P-256 key pair (ES256): small, fast, and what authd itself signs with by default."""
    return ec.generate_private_key(ec.SECP256R1())


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SystemExit(f"{path}: not an EC private key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half as a JWK, its kid the RFC 7638 thumbprint (stable for the key)."""
    numbers = key.public_key().public_numbers()
    members = {"crv": "P-256", "kty": "EC", "x": b64url(numbers.x.to_bytes(32, "big")),
               "y": b64url(numbers.y.to_bytes(32, "big"))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return {**members, "kid": b64url(hashlib.sha256(canonical).digest()), "alg": "ES256",
            "use": "sig"}


def sign_assertion(key: ec.EllipticCurvePrivateKey, client_id: str, audience: str, *,
                   lifetime: int = 60, now: float | None = None, **extra: Any) -> str:
    """A client assertion: iss = sub = the client, aud = authd's token endpoint, a fresh jti."""
    issued = int(time.time() if now is None else now)
    header = {"alg": "ES256", "kid": public_jwk(key)["kid"], "typ": "JWT"}
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": issued,
              "exp": issued + lifetime, "jti": secrets.token_urlsafe(16), **extra}
    signing_input = (b64url(json.dumps(header).encode()) + "."
                     + b64url(json.dumps(claims).encode())).encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return signing_input.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def request_token(http: httpx.Client, issuer: str, client_id: str,
                  key: ec.EllipticCurvePrivateKey, scope: str | None = None) -> dict[str, Any]:
    """A client_credentials token for the client itself, authenticated by a fresh assertion."""
    token_endpoint = f"{issuer}/v1/token"
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": sign_assertion(key, client_id, token_endpoint)}
    if scope:
        form["scope"] = scope
    response = http.post(token_endpoint, data=form)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "keygen":
        key = generate_key()
        Path(argv[1]).write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        Path(argv[1]).chmod(0o600)
        print(json.dumps({"keys": [public_jwk(key)]}, indent=2))
        return 0
    if len(argv) == 2 and argv[0] == "jwks":
        print(json.dumps({"keys": [public_jwk(load_key(Path(argv[1])))]}, indent=2))
        return 0
    if len(argv) == 4 and argv[0] == "token":
        with httpx.Client() as http:
            print(json.dumps(request_token(http, argv[1].rstrip("/"), argv[2],
                                           load_key(Path(argv[3]))), indent=2))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
