"""Concurrent refreshes never leave two live branches of a family."""

from __future__ import annotations

import concurrent.futures
import time

import httpx

from tests.e2e.conftest import login, refresh, sign_up


def _parallel_refresh(url: str, token: str, n: int) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as client:
            return refresh(client, token)
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_two_concurrent_refreshes_converge(http: httpx.Client, server) -> None:
    """Two simultaneous refreshes of one token both succeed with the same new refresh token."""
    tokens = login(http, sign_up(http))
    results = _parallel_refresh(server.url, tokens["refresh_token"], 2)
    assert [r.status_code for r in results] == [200, 200]
    assert len({r.json()["refresh_token"] for r in results}) == 1


def test_twenty_concurrent_refreshes_leave_exactly_one_live_branch(http: httpx.Client,
                                                                   server) -> None:
    """20 concurrent refreshes hand out one current token; it is the only one that works on."""
    tokens = login(http, sign_up(http))
    results = _parallel_refresh(server.url, tokens["refresh_token"], 20)
    ok = [r for r in results if r.status_code == 200]
    assert ok, [r.text for r in results]
    issued = {r.json()["refresh_token"] for r in ok}
    assert len(issued) == 1
    (current,) = issued
    assert refresh(http, current).status_code == 200


def test_parent_replay_outside_grace_revokes(tmp_path) -> None:
    """Replaying the immediate parent after the grace window is theft: the family is revoked."""
    from tests.e2e.conftest import start_server

    srv, _ = start_server(tmp_path, "sqlite", {"AUTHD_REFRESH_REUSE_GRACE": "1"})
    try:
        with srv.client() as http:
            t0 = login(http, sign_up(http))
            t1 = refresh(http, t0["refresh_token"]).json()
            time.sleep(1.3)  # past the 1 s grace configured above
            assert refresh(http, t0["refresh_token"]).status_code == 400
            assert refresh(http, t1["refresh_token"]).status_code == 400
    finally:
        srv.stop()


def test_older_generation_replay_revokes_even_within_grace(http: httpx.Client) -> None:
    """A grandparent token is never accepted, however quickly it is replayed."""
    t0 = login(http, sign_up(http))
    t1 = refresh(http, t0["refresh_token"]).json()
    t2 = refresh(http, t1["refresh_token"]).json()
    assert refresh(http, t0["refresh_token"]).status_code == 400
    assert refresh(http, t2["refresh_token"]).status_code == 400
