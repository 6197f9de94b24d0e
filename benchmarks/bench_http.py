"""Requests/s of authenticated requests as ratios to a plain endpoint of the same server.

    .venv/bin/python -m benchmarks.bench_http [--seconds 8] [--json out.json]

Needs `wrk` (Debian package) as the load generator; runs real `authd serve`
processes on loopback (SQLite, and SQLite + Redis for the Redis session store).
Scenarios: GET /healthz (plain), GET /v1/userinfo with a Bearer token, and
GET /v1/userinfo with a session cookie (SQL store, Redis store). Also prints
the bytes each credential adds to a request.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.conftest import PASSWORD, start_server

TARGETS = {"cookie_sql": 0.45, "cookie_redis": 0.30, "bearer": 0.30}


def wrk(url: str, seconds: int, header: str | None) -> float:
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    if header:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} failed responses")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def credentials(server: Any) -> tuple[str, str]:
    with server.client() as http:
        http.post("/v1/users", json={"email": "bench@example.com", "password": PASSWORD})
        token = http.post("/v1/token", data={"grant_type": "password",
                                             "username": "bench@example.com",
                                             "password": PASSWORD}).json()["access_token"]
        cookie = http.post("/v1/session", json={"email": "bench@example.com",
                                                "password": PASSWORD}).cookies["authd_session"]
    return token, cookie


def run(backend: str, seconds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server, _ = start_server(Path(tmp), backend, {"AUTHD_LOG_LEVEL": "error"})
        try:
            token, cookie = credentials(server)
            plain = wrk(f"{server.url}/healthz", seconds, None)
            result = {"plain_rps": plain, "token_bytes": len(f"Authorization: Bearer {token}"),
                      "cookie_bytes": len(f"Cookie: authd_session={cookie}")}
            cookie_key = "cookie_redis" if backend == "redis" else "cookie_sql"
            result[f"{cookie_key}_rps"] = wrk(f"{server.url}/v1/userinfo", seconds,
                                              f"Cookie: authd_session={cookie}")
            if backend != "redis":
                result["bearer_rps"] = wrk(f"{server.url}/v1/userinfo", seconds,
                                           f"Authorization: Bearer {token}")
            return result
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("install wrk first: apt-get install wrk")
    sql = run("sqlite", args.seconds)
    redis = run("redis", args.seconds)
    rows = [("bearer", sql["bearer_rps"], sql["plain_rps"]),
            ("cookie_sql", sql["cookie_sql_rps"], sql["plain_rps"]),
            ("cookie_redis", redis["cookie_redis_rps"], redis["plain_rps"])]
    print(f"{'scenario':14} {'req/s':>9} {'plain req/s':>12} {'ratio':>6}  target")
    for name, rps, plain in rows:
        ratio = rps / plain
        print(f"{name:14} {rps:9.0f} {plain:12.0f} {ratio:6.2f}  >= {TARGETS[name]} "
              f"{'MET' if ratio >= TARGETS[name] else 'MISSED'}")
    print(f"bytes on the wire per request: Bearer header {sql['token_bytes']}, "
          f"cookie header {sql['cookie_bytes']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"sqlite": sql, "redis": redis}, indent=2))


if __name__ == "__main__":
    main()
