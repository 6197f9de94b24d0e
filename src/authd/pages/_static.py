"""The pages' three static files: the stylesheet, the colour theme and the passkeys script.

The theme is generated from ``[ui] primary_color`` as a stylesheet of its
own, so the colour reaches the pages without any inline style and the CSP
stays ``style-src 'self'``.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import services

CACHE = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _file(name: str) -> bytes:
    return (resources.files("authd.pages") / "static" / name).read_bytes()


async def stylesheet(_request: Request) -> Response:
    return Response(_file("style.css"), media_type="text/css", headers=CACHE)


async def script(_request: Request) -> Response:
    return Response(_file("passkeys.js"), media_type="text/javascript", headers=CACHE)


async def theme(request: Request) -> Response:
    colour = services(request).settings.ui.primary_color  # validated: #rrggbb
    return Response(f":root {{ --primary: {colour}; }}\n", media_type="text/css", headers=CACHE)
