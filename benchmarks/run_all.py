"""Every performance target of the project, measured in one go, with MET or MISSED.

    .venv/bin/python -m benchmarks.run_all [--quick]

Runs each benchmark script (see benchmarks/README.md) and prints its full
output, then a summary of every line that states a target. Exits non-zero
only if a script fails, never because a target is missed: targets are
reported, not enforced (timings do not belong in pass/fail checks).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

SCRIPTS = [
    ("codec", ["benchmarks/bench_jose.py"], []),
    ("verifier", ["-m", "benchmarks.bench_verify"], []),
    ("http", ["-m", "benchmarks.bench_http"], ["--seconds", "4"]),
    ("scale", ["-m", "benchmarks.bench_scale"], ["--seconds", "4", "--revocations", "300"]),
    ("memory", ["-m", "benchmarks.bench_session_memory"], ["--sessions", "2000"]),
    ("idle-rss", ["-m", "benchmarks.bench_memory"], ["--logins", "10"]),
    ("mail", ["-m", "benchmarks.bench_mail"], ["--requests", "300", "--messages", "600"]),
    ("machines", ["-m", "benchmarks.bench_client_credentials"], ["--seconds", "4"]),
    ("search", ["-m", "benchmarks.bench_admin_search"], ["--users", "200000", "--requests", "300"]),
    ("webhooks", ["-m", "benchmarks.bench_webhooks"], ["--events", "2000", "--outage", "60"]),
    ("passkeys", ["-m", "benchmarks.bench_passkeys"], ["--seconds", "4", "--checks", "1000"]),
    ("pages", ["-m", "benchmarks.bench_pages"], ["--seconds", "4", "--loads", "10"]),
    ("mfa", ["-m", "benchmarks.bench_mfa"], ["--users", "160"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (less precise)")
    args = parser.parse_args()
    summary: list[str] = []
    for name, command, quick in SCRIPTS:
        print(f"== {name}", flush=True)
        result = subprocess.run([sys.executable, *command, *(quick if args.quick else [])],
                                capture_output=True, text=True)
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(f"{name} failed")
        summary += [f"{name:8} {line.strip()}" for line in result.stdout.splitlines()
                    if "MET" in line or "MISSED" in line]
    print("\n== every target")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
