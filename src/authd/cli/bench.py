"""``authd bench``: load an authd deployment and report; ``authd bench compare`` plots two runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import orjson
import typer

from authd.bench._target import BenchArgumentError, check_numbers, check_scenarios, check_url

bench_app = typer.Typer(help="Measure an authd deployment (see docs/bench.md).",
                        invoke_without_command=True, no_args_is_help=False)


@bench_app.callback()
def bench(ctx: typer.Context,
          url: Annotated[list[str] | None, typer.Option(help="Instance URL (repeat for several).")] = None,
          scenario: Annotated[list[str] | None, typer.Option(
              help="login, refresh, bearer, cookie, revoke, mixed (repeatable).")] = None,
          duration: Annotated[float, typer.Option(help="Measured seconds per scenario.")] = 10.0,
          warmup: Annotated[float, typer.Option(help="Unmeasured seconds first.")] = 2.0,
          concurrency: Annotated[int, typer.Option(help="Requests in flight.")] = 16,
          rate: Annotated[float | None, typer.Option(help="Fixed request rate per second.")] = None,
          report: Annotated[Path | None, typer.Option(help="Write report.html + JSON here.")] = None,
          json_out: Annotated[Path | None, typer.Option("--json", help="Write results JSON.")] = None,
          i_own_this_target: Annotated[bool, typer.Option(
              "--i-own-this-target", help="Allow a non-loopback URL you may load.")] = False,
          ) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from authd.bench._report import table, write_html, write_json
    from authd.bench._scenarios import Plan, run_plan

    try:
        urls = [check_url(u, own_target=i_own_this_target) for u in (url or ["http://127.0.0.1:8000"])]
        check_numbers(duration, warmup, concurrency, rate)
        names = check_scenarios(list(scenario or []))
    except BenchArgumentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    results = asyncio.run(run_plan(Plan(urls, names, duration, warmup, concurrency, rate)))
    typer.echo(table(results))
    if json_out:
        write_json(results, json_out)
    if report:
        typer.echo(f"report: {write_html([('run', results)], report)}")


@bench_app.command()
def compare(first: Path, second: Path,
            report: Annotated[Path, typer.Option(help="Directory for report.html.")] = Path("bench-compare"),
            ) -> None:
    """Plot two result files side by side (e.g. SQLite vs PostgreSQL, one vs two instances)."""
    from authd.bench._report import write_html

    runs = []
    for path in (first, second):
        try:
            runs.append((path.stem, orjson.loads(path.read_bytes())))
        except (OSError, orjson.JSONDecodeError) as exc:
            typer.echo(f"error: cannot read {path}: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"report: {write_html(runs, report)}")
