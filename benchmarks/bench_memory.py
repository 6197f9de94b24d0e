"""Idle memory of authd next to fastapi-users' documented example, on the same machine.

    .venv/bin/python -m benchmarks.bench_memory [--logins 50]

Starts ``authd serve`` (SQLite, defaults) and fastapi-users' SQLAlchemy +
SQLite example (benchmarks/peers/fastapi_users_app.py, JWT bearer), waits
until each answers, and reads each process's resident set size (VmRSS) at
idle, then after one sign-up and N password logins. If fastapi-users is not
importable here, it is installed from PyPI into a throw-away virtualenv in
this run's temporary folder. Target: authd's idle RSS at most 1.2x
fastapi-users'.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.serverproc import AuthdServer, free_port

PEER = Path(__file__).resolve().parent / "peers" / "fastapi_users_app.py"
PASSWORD = "correct horse battery staple"


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def settled_rss(pid: int) -> float:
    """RSS once it stops changing: start-up work (migrations, imports) has finished."""
    last, deadline = rss_mb(pid), time.monotonic() + 15
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = rss_mb(pid)
        if abs(now - last) < 0.2:
            return now
        last = now
    return last


def fastapi_users_python(tmp: Path) -> str:
    """An interpreter that can import fastapi_users: this one, or a fresh venv under ``tmp``."""
    probe = subprocess.run([sys.executable, "-c", "import fastapi_users, aiosqlite, uvicorn"],
                           capture_output=True)
    if probe.returncode == 0:
        return sys.executable
    venv = tmp / "fastapi-users-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    print("installing fastapi-users into a throw-away virtualenv ...", flush=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "fastapi-users[sqlalchemy]", "aiosqlite",
                    "uvicorn"], check=True)
    return python


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def measure_authd(tmp: Path, logins: int) -> tuple[float, float]:
    server = AuthdServer(tmp / "authd", env={"AUTHD_LOG_LEVEL": "warning"}).start()
    try:
        assert server.process is not None
        idle = settled_rss(server.process.pid)
        with server.client() as http:
            http.post("/v1/users", json={"email": "mem@example.com", "password": PASSWORD})
            for _ in range(logins):
                http.post("/v1/token", data={"grant_type": "password", "username": "mem@example.com",
                                             "password": PASSWORD}).raise_for_status()
        return idle, rss_mb(server.process.pid)
    finally:
        server.stop()


def measure_fastapi_users(tmp: Path, python: str, logins: int) -> tuple[float, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([python, str(PEER), str(port), str(tmp / "fastapi-users.db")],
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        wait_until(lambda: httpx.get(f"{url}/docs", timeout=2).status_code == 200, "fastapi-users")
        idle = settled_rss(process.pid)
        with httpx.Client(base_url=url, timeout=30) as http:
            http.post("/auth/register", json={"email": "mem@example.com", "password": PASSWORD})
            for _ in range(logins):
                http.post("/auth/jwt/login", data={"username": "mem@example.com",
                                                   "password": PASSWORD}).raise_for_status()
        return idle, rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--python", help="an interpreter that already has fastapi-users")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        python = args.python or fastapi_users_python(tmp)
        authd_idle, authd_busy = measure_authd(tmp, args.logins)
        peer_idle, peer_busy = measure_fastapi_users(tmp, python, args.logins)
    ratio = authd_idle / peer_idle
    print(f"authd:         idle {authd_idle:6.1f} MiB RSS, after {args.logins} logins {authd_busy:6.1f} MiB")
    print(f"fastapi-users: idle {peer_idle:6.1f} MiB RSS, after {args.logins} logins {peer_busy:6.1f} MiB")
    print(f"idle RSS ratio authd / fastapi-users: {ratio:.2f} (target <= 1.2: "
          f"{'MET' if ratio <= 1.2 else 'MISSED'}); after logins {authd_busy / peer_busy:.2f}")


if __name__ == "__main__":
    main()
