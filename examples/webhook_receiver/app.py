"""A webhook receiver for authd: verify the signature, skip repeats, act, answer 2xx quickly.

    WEBHOOK_SECRET=whsec_... python -m examples.webhook_receiver.app   # listens on 127.0.0.1:9000

authd signs every request with the Standard Webhooks scheme; the
``standardwebhooks`` library checks the signature and refuses timestamps more
than 5 minutes off. Delivery is at least once, so an event can arrive twice
(a retry after a lost answer, a replay): ``webhook-id`` is the same each time,
and a receiver remembers the ids it has handled. Keep them in your database in
the transaction that acts on the event; this example keeps them in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Handler = Callable[[str, dict[str, Any]], None]  # (webhook id, {"type", "timestamp", "data"})


def create_app(secret: str, handle: Handler) -> Starlette:
    """The receiver: ``handle`` is called once per webhook-id with the verified event."""
    verifier = Webhook(secret)
    seen: set[str] = set()

    async def receive(request: Request) -> Response:
        body = await request.body()  # the raw bytes: the signature covers them exactly
        try:
            event = verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return JSONResponse({"error": "bad signature"}, status_code=400)
        webhook_id = request.headers["webhook-id"]
        if webhook_id not in seen:  # a retry or replay of an event already handled
            handle(webhook_id, event)
            seen.add(webhook_id)
        return Response(status_code=204)

    return Starlette(routes=[Route("/webhooks", receive, methods=["POST"])])


def _print(webhook_id: str, event: dict[str, Any]) -> None:
    print(webhook_id, event["type"], event["data"], flush=True)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(os.environ["WEBHOOK_SECRET"], _print), host="127.0.0.1", port=9000)
