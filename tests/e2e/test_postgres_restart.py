"""authd keeps serving across a PostgreSQL restart, without being restarted itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI, drop_pg_database
from tests.e2e.conftest import PASSWORD, bearer, login, sign_up, start_server


def _restart_postgresql() -> None:
    versions = sorted(os.listdir("/etc/postgresql"))
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
                   check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.2)


@pytest.mark.serial
def test_requests_succeed_after_a_postgresql_restart(tmp_path: Path) -> None:
    """Users log in and tokens verify right after PostgreSQL restarts; nothing acknowledged is lost."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0 \
            or not Path("/etc/postgresql").is_dir():
        if IN_CI:
            pytest.fail("CI=true: this machine must be able to restart its PostgreSQL")
        pytest.skip("needs root and a local Debian PostgreSQL cluster")
    srv, url = start_server(tmp_path, "postgres")
    try:
        with srv.client() as http:
            email = sign_up(http)
            tokens = login(http, email)
            _restart_postgresql()
            statuses = [http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code
                        for _ in range(3)]
            assert statuses[-1] == 200 and all(s in (200, 503) for s in statuses), statuses
            assert http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                "password": PASSWORD}).status_code == 200
            assert sign_up(http)
    finally:
        srv.stop()
        if url:
            drop_pg_database(url)
