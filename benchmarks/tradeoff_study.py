"""The sessions-vs-tokens study: `authd bench` on the embedded default and on PostgreSQL + Redis.

    .venv/bin/python -m benchmarks.tradeoff_study [--duration 5]

Runs the same scenarios against (1) one instance on SQLite and (2) two
instances on PostgreSQL + Redis, writes both JSON results and the comparison
report to `docs/figures/` (the report writes its four summary charts there as
SVG files, which docs/tradeoffs.md shows).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.e2e.conftest import start_server

from benchmarks._cluster import cluster

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"
SCENARIOS = ["login", "refresh", "bearer", "cookie", "revoke", "mixed", "healthz"]


def bench(urls: list[str], duration: str, out: Path) -> None:
    args = [a for u in urls for a in ("--url", u)]
    args += [a for s in SCENARIOS for a in ("--scenario", s)]
    subprocess.run([sys.executable, "-m", "authd.cli", "bench", *args, "--duration", duration,
                    "--warmup", "1", "--concurrency", "16", "--json", str(out)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="5")
    args = parser.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    sqlite_json, scaled_json = FIGURES / "sqlite-1-instance.json", FIGURES / "pg-redis-2-instances.json"
    with tempfile.TemporaryDirectory() as tmp:
        server, _ = start_server(Path(tmp), "sqlite", {"AUTHD_LOG_LEVEL": "error"})
        try:
            bench([server.url], args.duration, sqlite_json)
        finally:
            server.stop()
    with cluster(2) as servers:
        bench([s.url for s in servers], args.duration, scaled_json)
    subprocess.run([sys.executable, "-m", "authd.cli", "bench", "compare", str(sqlite_json),
                    str(scaled_json), "--report", str(FIGURES)], check=True)
    for stale in FIGURES.glob("*.png"):  # charts from before the report drew SVG
        stale.unlink()


if __name__ == "__main__":
    main()
