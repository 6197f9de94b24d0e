"""authd.verify vs PyJWT (with PyJWKClient) vs joserfc vs the raw primitive, on one token.

    .venv/bin/python benchmarks/bench_verify.py [--json out.json]

Each verifier is set up as a resource server would use it (keys from a JWKS,
cached), then verifies the same RFC 9068 access token with full claim checks.
Also measures what the revocation check adds to authd.verify.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt as pyjwt
import orjson
from joserfc import jwt as rfc_jwt
from joserfc.jwk import KeySet as RfcKeySet

from authd import jose
from authd.verify import TokenVerifier
from benchmarks.bench_jose import CLAIMS, per_op, raw_verify

warnings.filterwarnings("ignore")


def serve_jwks(jwks: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    body = orjson.dumps(jwks)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=300")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/jwks"


def measure(alg: str) -> dict[str, Any]:
    key = jose.generate_key(alg)
    jwks = {"keys": [key.public_jwk()]}
    server, url = serve_jwks(jwks)
    token = jose.encode_jwt(CLAIMS, key, typ="at+jwt")
    ours = TokenVerifier(issuer=CLAIMS["iss"], audience=CLAIMS["aud"], jwks_url=url,
                         follow_revocations=False)
    ours.verify(token)
    client = pyjwt.PyJWKClient(url, cache_keys=True)
    rfc_keys = RfcKeySet.import_key_set(jwks)

    def pyjwt_verify() -> None:
        signing_key = client.get_signing_key_from_jwt(token)
        pyjwt.decode(token, signing_key.key, algorithms=[alg], audience=CLAIMS["aud"],
                     issuer=CLAIMS["iss"])

    def joserfc_verify() -> None:
        decoded = rfc_jwt.decode(token, rfc_keys, algorithms=[alg])
        rfc_jwt.JWTClaimsRegistry(iss={"essential": True, "value": CLAIMS["iss"]},
                                  aud={"essential": True, "value": CLAIMS["aud"]}
                                  ).validate(decoded.claims)

    result = {"alg": alg, "verify_us": {
        "raw": per_op(raw_verify(key, token)),
        "authd.verify": per_op(lambda: ours.verify(token)),
        "pyjwt+PyJWKClient": per_op(pyjwt_verify),
        "joserfc": per_op(joserfc_verify),
    }}
    server.shutdown()
    return result


def revocation_cost() -> float:
    """Extra µs per verification for the denylist lookup, with 100,000 entries held."""
    from authd.verify._revocations import RevocationFollower

    follower = RevocationFollower("http://127.0.0.1:9/none")
    follower._apply([{"jti": f"j{i}", "exp": time.time() + 3600} for i in range(100_000)])
    with_lookup = per_op(lambda: follower.is_revoked("absent-jti", "absent-sid"))
    baseline = per_op(lambda: None)
    return max(0.0, with_lookup - baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    results = [measure(alg) for alg in ("ES256", "EdDSA", "RS256")]
    print(f"{'alg':6} {'raw':>8} {'authd.verify':>16} {'PyJWT+JWKClient':>18} {'joserfc':>16}  targets")
    for r in results:
        v = r["verify_us"]
        fastest_lib = min(v["pyjwt+PyJWKClient"], v["joserfc"])
        speedup = fastest_lib / v["authd.verify"]
        ratio = v["authd.verify"] / v["raw"]
        notes = []
        if r["alg"] in ("ES256", "EdDSA"):
            notes.append(f"<=1.3x raw {'MET' if ratio <= 1.3 else 'MISSED'}")
        if r["alg"] in ("ES256", "RS256"):
            notes.append(f">=1.5x faster than libs: {speedup:.2f}x "
                         f"{'MET' if speedup >= 1.5 else 'MISSED'}")
        print(f"{r['alg']:6} {v['raw']:8.1f} {v['authd.verify']:8.1f} ({ratio:4.2f}x) "
              f"{v['pyjwt+PyJWKClient']:9.1f} ({v['pyjwt+PyJWKClient'] / v['raw']:4.2f}x) "
              f"{v['joserfc']:8.1f} ({v['joserfc'] / v['raw']:4.2f}x)  {'; '.join(notes)}")
    cost = revocation_cost()
    print(f"revocation check: {cost:.3f} µs per verification with 100,000 entries "
          f"(target < 1 µs: {'MET' if cost < 1 else 'MISSED'})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"results": results, "revocation_check_us": cost}, handle, indent=2)


if __name__ == "__main__":
    main()
