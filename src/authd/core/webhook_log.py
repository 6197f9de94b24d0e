"""The webhook delivery log and replay: what operators and the admin API read and redo."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from authd.clock import Clock
from authd.core.models import OutboxItem
from authd.core.ports import WebhookOutbox
from authd.core.webhooks import EVENT_TYPES
from authd.errors import InvalidRequest

STATUSES = ("pending", "delivered", "failed")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event to one endpoint: its ``id`` is the ``webhook-id`` the receiver saw."""

    id: str
    endpoint: str
    type: str
    user_id: str | None
    status: str  # pending | delivered | failed (given up)
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: float
    next_attempt_at: float | None
    delivered_at: float | None
    failed_at: float | None


    def as_json(self) -> dict[str, object]:
        """The admin API's shape: every field, times as Unix seconds; never the payload."""
        return {"id": self.id, "endpoint": self.endpoint, "type": self.type,
                "user_id": self.user_id, "status": self.status, "attempts": self.attempts,
                "last_status": self.last_status, "last_error": self.last_error,
                "created_at": self.created_at, "next_attempt_at": self.next_attempt_at,
                "delivered_at": self.delivered_at, "failed_at": self.failed_at}


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_cursor: str | None

    def as_json(self) -> dict[str, object]:
        """``{"deliveries": [...], "next_cursor": ...}`` for ``GET /admin/v1/webhooks/deliveries``."""
        return {"deliveries": [d.as_json() for d in self.deliveries],
                "next_cursor": self.next_cursor}


class WebhookLog:
    """Keyset-paginated delivery log (newest first) and ``replay``."""

    def __init__(self, store: WebhookOutbox, clock: Clock, endpoints: tuple[str, ...]) -> None:
        self._store = store
        self._clock = clock
        self._endpoints = endpoints

    async def deliveries(self, endpoint: str | None, status: str | None, cursor: str | None,
                         limit: int) -> DeliveryPage:
        """A page of deliveries; ``InvalidRequest`` for an unknown status or a bad cursor."""
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}")
        before = _decode(cursor) if cursor else None
        rows = await self._store.list_webhooks(endpoint, status, before, limit + 1)
        page = [_delivery(r) for r in rows[:limit]]
        more = len(rows) > limit
        return DeliveryPage(page, _encode(page[-1].created_at, page[-1].id) if more else None)

    async def replay(self, since: float, *, endpoint: str | None = None,
                     event_type: str | None = None) -> int:
        """Send again every event written since ``since`` (same webhook-id); how many rows."""
        if endpoint is not None and endpoint not in self._endpoints:
            raise InvalidRequest(f"no webhook endpoint named {endpoint!r}")
        if event_type is not None and event_type not in EVENT_TYPES:
            raise InvalidRequest(f"{event_type!r} is not a webhook event type "
                                 f"({', '.join(EVENT_TYPES)})")
        return await self._store.replay_webhooks(since, self._clock.now(), endpoint, event_type)


def _status(item: OutboxItem) -> str:
    if item.delivered_at is not None:
        return "delivered"
    return "failed" if item.failed_at is not None else "pending"


def _delivery(item: OutboxItem) -> Delivery:
    status = _status(item)
    return Delivery(id=item.id, endpoint=item.endpoint or "", type=item.event_type or "",
                    user_id=item.subject, status=status, attempts=item.attempts,
                    last_status=item.last_status, last_error=item.last_error,
                    created_at=item.created_at,
                    next_attempt_at=item.next_attempt_at if status == "pending" else None,
                    delivered_at=item.delivered_at, failed_at=item.failed_at)


def _encode(created_at: float, item_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}|{item_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, item_id = raw.split("|", 1)
        return float(at), item_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this server handed out") from None
