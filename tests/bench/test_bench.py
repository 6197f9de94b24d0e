"""`authd bench` against a real authd process: it completes, reports every field, draws plots."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.e2e.conftest import start_server
from tests.serverproc import AuthdServer

FIELDS = {"name", "duration_s", "requests", "rps", "p50_ms", "p95_ms", "p99_ms", "errors",
          "statuses", "bytes_per_request", "latencies_ms", "generator_cpu_share", "generator_limited"}


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `authd bench` as a user would, in a subprocess."""
    return subprocess.run([sys.executable, "-m", "authd.cli", "bench", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def authd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthdServer]:
    """A real authd process (SQLite) for the load generator to measure."""
    server, _ = start_server(tmp_path_factory.mktemp("bench-authd"), "sqlite")
    yield server
    server.stop()


def test_short_run_reports_every_scenario(authd: AuthdServer, tmp_path: Path) -> None:
    """A short run of every scenario completes with results, JSON and an HTML report with images."""
    out = tmp_path / "results.json"
    result = bench("--url", authd.url, "--duration", "0.7", "--warmup", "0.2", "--concurrency",
                   "4", "--scenario", "login", "--scenario", "refresh", "--scenario", "bearer",
                   "--scenario", "cookie", "--scenario", "revoke", "--scenario", "mixed",
                   "--scenario", "healthz", "--json", str(out), "--report", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert [s["name"] for s in data["scenarios"]] == ["login", "refresh", "bearer", "cookie",
                                                      "revoke", "mixed", "healthz"]
    for scenario in data["scenarios"]:
        assert set(scenario) >= FIELDS
        assert scenario["requests"] > 0 and scenario["errors"] == 0, scenario["name"]
    assert set(data["environment"]) >= {"python", "platform", "cpu_count", "signing_algs"}
    assert data["sizes"]["access_token_bytes"] > 0 and data["sizes"]["cookie_header_bytes"] > 0
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("<svg ") >= 4
    for chart in sorted((tmp_path / "report").glob("*.svg")):  # the charts also stand alone
        ElementTree.fromstring(chart.read_text())
    assert len(list((tmp_path / "report").glob("*.svg"))) == 4
    assert "bearer" in result.stdout and "p99 ms" in result.stdout
    assert "gen CPU" in result.stdout and "load generator" in result.stdout


def test_compare_draws_two_runs_side_by_side(authd: AuthdServer, tmp_path: Path) -> None:
    """`authd bench compare a.json b.json` produces one report with both runs."""
    for name in ("a", "b"):
        assert bench("--url", authd.url, "--duration", "0.4", "--warmup", "0", "--scenario",
                     "bearer", "--json", str(tmp_path / f"{name}.json")).returncode == 0
    result = bench("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                   "--report", str(tmp_path / "cmp"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "cmp" / "report.html").read_text()
    assert ">a<" in page and ">b<" in page and "<svg " in page


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "http://192.0.2.10:8000"], "not on this machine"),
    (["--url", "ftp://127.0.0.1"], "http(s) URL"),
    (["--duration", "0"], "--duration"),
    (["--concurrency", "0"], "--concurrency"),
    (["--rate", "-5"], "--rate"),
    (["--scenario", "everything"], "unknown scenario"),
])
def test_bad_arguments_are_refused_clearly(args: list[str], message: str) -> None:
    """Bad input is refused with one clear line and exit status 2, before any request is sent."""
    result = bench(*args)
    assert result.returncode == 2 and message in result.stderr


def test_compare_refuses_unreadable_files(tmp_path: Path) -> None:
    """A missing or non-JSON result file is a clear error."""
    (tmp_path / "bad.json").write_text("{nope")
    result = bench("compare", str(tmp_path / "bad.json"), str(tmp_path / "missing.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_the_report_says_when_the_generator_was_the_limit() -> None:
    """A scenario where the generator kept a core busy is named as generator-limited, in plain words."""
    from authd.bench._load import ScenarioResult
    from authd.bench._report import table

    busy = ScenarioResult("bearer", duration=2.0, latencies_ms=[1.0] * 10, generator_cpu_s=1.9)
    idle = ScenarioResult("refresh", duration=2.0, latencies_ms=[1.0] * 10, generator_cpu_s=0.2)
    sizes = {"access_token_bytes": 1, "authorization_header_bytes": 1, "cookie_header_bytes": 1}
    text = table({"scenarios": [busy.summary(), idle.summary()], "sizes": sizes})
    assert "the load generator, not the server, was the limit in: bearer" in text
    assert busy.summary()["generator_limited"] and not idle.summary()["generator_limited"]
    calm = table({"scenarios": [idle.summary()], "sizes": sizes})
    assert "had CPU to spare" in calm


def test_charts_are_well_formed_svg() -> None:
    """Bar charts and histograms are valid SVG documents, even for empty or zero data."""
    from authd.bench._svg import bar_chart, histogram

    for svg in (bar_chart("rps", ["a", "b"], [("x", [1.0, 2500.0]), ("y", [0.0, 3.0])]),
                bar_chart("none", ["a"], [("x", [0.0])]), histogram("h", [0.5, 0.7, 9.0]),
                histogram("empty", [])):
        assert ElementTree.fromstring(svg).tag.endswith("svg")
