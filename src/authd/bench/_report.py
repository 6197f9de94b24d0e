"""Results as JSON and as one self-contained HTML page with SVG charts (``_svg``).

The charts are also written as separate ``.svg`` files next to the page, so
documentation can show them as they are.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import orjson

from authd.bench._svg import bar_chart, histogram

METRICS = (("rps", "requests per second"), ("p50_ms", "p50 latency (ms)"),
           ("p99_ms", "p99 latency (ms)"), ("bytes_per_request", "bytes on the wire per request"))


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


def charts(runs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(title, SVG) for each metric across runs, then a latency histogram per run and scenario."""
    names = [s["name"] for s in runs[0][1]["scenarios"]]
    images: list[tuple[str, str]] = []
    for metric, title in METRICS:
        series = []
        for label, run in runs:
            values = {s["name"]: float(s.get(metric) or 0) for s in run["scenarios"]}
            series.append((label, [values.get(n, 0.0) for n in names]))
        images.append((title, bar_chart(title, names, series)))
    for label, run in runs:
        for scenario in run["scenarios"]:
            if scenario["latencies_ms"]:
                title = f"{label}: {scenario['name']} latency histogram (ms)"
                images.append((title, histogram(title, scenario["latencies_ms"])))
    return images


def _slug(index: int, title: str) -> str:
    return f"{index}-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.svg"


def write_html(runs: list[tuple[str, dict[str, Any]]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(s['name'])}</td><td>{s['rps']}</td>"
        f"<td>{s['p50_ms']}</td><td>{s['p95_ms']}</td><td>{s['p99_ms']}</td><td>{s['errors']}</td>"
        f"<td>{s['bytes_per_request']}</td><td>{s.get('generator_cpu_share', 0):.0%}</td></tr>"
        for label, run in runs for s in run["scenarios"])
    images = charts(runs)
    figures = "".join(f"<figure>{svg}<figcaption>{html.escape(t)}</figcaption></figure>"
                      for t, svg in images)
    env = "".join(f"<li>{html.escape(label)}: {html.escape(str(run['environment']))}; "
                  f"sizes {html.escape(str(run['sizes']))}</li>" for label, run in runs)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>authd bench</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td,th{{padding:2px 8px;
text-align:right}}figure{{margin:1em 0}}</style></head><body><h1>authd bench</h1>
<table><tr><th>run</th><th>scenario</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th>
<th>p99 ms</th><th>errors</th><th>bytes/req</th><th>generator CPU</th></tr>{rows}</table><ul>{env}</ul>
{figures}</body></html>"""
    target = directory / "report.html"
    target.write_text(page)
    for index, (title, svg) in enumerate(images[:len(METRICS)]):
        (directory / _slug(index, title)).write_text(svg)
    for label, run in runs:
        write_json(run, directory / f"{label}.json")
    return target


def table(results: dict[str, Any]) -> str:
    lines = [f"{'scenario':10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
             f"{'errors':>6} {'B/req':>6} {'gen CPU':>7}"]
    for s in results["scenarios"]:
        lines.append(f"{s['name']:10} {s['rps']:9.1f} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} "
                     f"{s['p99_ms']:8.2f} {s['errors']:6d} {s['bytes_per_request']:6d} "
                     f"{s.get('generator_cpu_share', 0):7.0%}"
                     + (f"  ({s['note']})" if s.get("note") else ""))
    sizes = results["sizes"]
    lines.append(f"access token {sizes['access_token_bytes']} B; Authorization header "
                 f"{sizes['authorization_header_bytes']} B; Cookie header "
                 f"{sizes['cookie_header_bytes']} B")
    limited = [s["name"] for s in results["scenarios"] if s.get("generator_limited")]
    if limited:
        lines.append(f"the load generator, not the server, was the limit in: {', '.join(limited)} "
                     "(it kept one CPU core busy); run it from another machine, or run several "
                     "generators at once, to measure the server's ceiling")
    else:
        lines.append("the load generator had CPU to spare in every scenario: the rates are the server's")
    return "\n".join(lines)
