"""``authd webhooks replay|deliveries``: send events again, and read the delivery log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    from authd.wiring import Services

webhooks_app = typer.Typer(help="Webhooks: the delivery log and replay.", no_args_is_help=True)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_since(value: str, now: float) -> float:
    """``2026-12-05T10:00:00Z`` (naive: UTC) or a duration back from now: ``90s``, ``30m``,
    ``2h``, ``3d``, ``1h30m``. ``typer.BadParameter`` (one sentence) for anything else."""
    text = value.strip().lower()
    if text and _DURATION.sub("", text).strip() == "":
        return now - sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text))
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither an ISO time (2026-12-05T10:00:00Z) nor "
                                 "a duration (30m, 2h, 3d)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


@webhooks_app.command("replay")
def replay(since: Annotated[str, typer.Option(help="ISO time, or a duration back from now (2h).")],
           endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
           event: Annotated[str | None, typer.Option(help="Only this event type.")] = None) -> None:
    """Send every event written since then again, with its original webhook-id.

    A running server delivers them within its poll interval, in order per user.
    """
    from authd.cli.main import _with_services
    from authd.clock import SystemClock

    start = parse_since(since, SystemClock().now())  # a bad value is refused before any work

    async def action(svc: Services) -> int:
        return await svc.use_cases.webhooks.replay(start, endpoint=endpoint, event_type=event)
    count = _with_services(action)
    typer.echo(f"{count} webhook event{'s' if count != 1 else ''} will be sent again")


@webhooks_app.command("deliveries")
def deliveries(endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
               status: Annotated[str | None, typer.Option(
                   help="pending, delivered or failed (given up).")] = None,
               limit: int = 50) -> None:
    """Show the newest deliveries as JSON lines (no payloads: they hold email addresses)."""
    from authd.cli.main import _with_services

    async def action(svc: Services) -> list[dict[str, Any]]:
        page = await svc.use_cases.webhooks.deliveries(endpoint, status, None, limit)
        return [d.as_json() for d in page.deliveries]
    for row in _with_services(action):
        typer.echo(orjson.dumps(row).decode())
