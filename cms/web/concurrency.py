"""The cap on requests in progress at once per worker process (``CMS_MAX_CONCURRENCY``).

Past the cap a request is answered at once with 503 ``SERVICE_UNAVAILABLE`` and
``Retry-After: 1`` rather than queued behind the others. Only requests count: an idle
keep-alive connection holds no slot (uvicorn's own ``limit_concurrency`` counted connections,
so idle sockets could shut every request out), and neither does a WebSocket, which the
subscriptions' caps govern. Open connections are bounded by :mod:`cms.web.connections`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cms.errors import ErrorCode
from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ConcurrencyLimit"]


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests in progress at once."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            response = error_response(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The server is busy; retry shortly.",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        # One event loop per worker: the count needs no lock.
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
