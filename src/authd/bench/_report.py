"""Results as JSON and as one self-contained HTML page with plots (matplotlib, PNG, base64).

matplotlib is imported here only, lazily, so neither the server nor
``authd --help`` pays for it.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import orjson


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(runs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images: list[tuple[str, str]] = []
    names = [s["name"] for s in runs[0][1]["scenarios"]]
    width = 0.8 / len(runs)
    for metric, title in (("rps", "requests per second"), ("p50_ms", "p50 latency (ms)"),
                          ("p99_ms", "p99 latency (ms)"), ("bytes_per_request",
                                                           "bytes on the wire per request")):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        for i, (label, run) in enumerate(runs):
            values = {s["name"]: s.get(metric, 0) for s in run["scenarios"]}
            ax.bar([x + i * width for x in range(len(names))], [values.get(n, 0) for n in names],
                   width, label=label)
        ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(names))], names)
        ax.set_title(title)
        if len(runs) > 1:
            ax.legend()
        images.append((title, _png(fig)))
        plt.close(fig)
    for label, run in runs:
        for scenario in run["scenarios"]:
            if not scenario["latencies_ms"]:
                continue
            fig, ax = plt.subplots(figsize=(7, 2.6))
            ax.hist(scenario["latencies_ms"], bins=50)
            ax.set_title(f"{label}: {scenario['name']} latency histogram (ms)")
            images.append((f"{label} {scenario['name']} histogram", _png(fig)))
            plt.close(fig)
    return images


def write_html(runs: list[tuple[str, dict[str, Any]]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(s['name'])}</td><td>{s['rps']}</td>"
        f"<td>{s['p50_ms']}</td><td>{s['p95_ms']}</td><td>{s['p99_ms']}</td><td>{s['errors']}</td>"
        f"<td>{s['bytes_per_request']}</td></tr>"
        for label, run in runs for s in run["scenarios"])
    figures = "".join(f'<figure><img alt="{html.escape(t)}" src="data:image/png;base64,{png}">'
                      f"<figcaption>{html.escape(t)}</figcaption></figure>"
                      for t, png in _plots(runs))
    env = "".join(f"<li>{html.escape(label)}: {html.escape(str(run['environment']))}; "
                  f"sizes {html.escape(str(run['sizes']))}</li>" for label, run in runs)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>authd bench</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td,th{{padding:2px 8px;
text-align:right}}figure{{margin:1em 0}}</style></head><body><h1>authd bench</h1>
<table><tr><th>run</th><th>scenario</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th>
<th>p99 ms</th><th>errors</th><th>bytes/req</th></tr>{rows}</table><ul>{env}</ul>
{figures}</body></html>"""
    target = directory / "report.html"
    target.write_text(page)
    for label, run in runs:
        write_json(run, directory / f"{label}.json")
    return target


def table(results: dict[str, Any]) -> str:
    lines = [f"{'scenario':10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
             f"{'errors':>6} {'B/req':>6}"]
    for s in results["scenarios"]:
        lines.append(f"{s['name']:10} {s['rps']:9.1f} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} "
                     f"{s['p99_ms']:8.2f} {s['errors']:6d} {s['bytes_per_request']:6d}"
                     + (f"  ({s['note']})" if s.get("note") else ""))
    sizes = results["sizes"]
    lines.append(f"access token {sizes['access_token_bytes']} B; Authorization header "
                 f"{sizes['authorization_header_bytes']} B; Cookie header "
                 f"{sizes['cookie_header_bytes']} B")
    return "\n".join(lines)
