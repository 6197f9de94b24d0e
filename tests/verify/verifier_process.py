"""Run as a separate process: verify a token until authd's revocation reaches this process.

    python verifier_process.py ISSUER AUDIENCE TOKEN POLL_INTERVAL

Prints "ready" once the token verifies, then "revoked <unix time>" the first
time verification raises RevokedToken (or "timeout" after 20 s).
"""

from __future__ import annotations

import sys
import time

from authd.verify import RevokedToken, TokenVerifier


def main() -> None:
    issuer, audience, token, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with TokenVerifier(issuer=issuer, audience=audience, poll_interval=interval) as verifier:
        verifier.verify(token)
        print("ready", flush=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                verifier.verify(token)
            except RevokedToken:
                print(f"revoked {time.time()}", flush=True)
                return
            time.sleep(0.01)
        print("timeout", flush=True)


if __name__ == "__main__":
    main()
