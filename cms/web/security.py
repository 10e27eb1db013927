"""The app's transport hardening, assembled in one place.

:func:`security_middleware` lists the middleware, outermost first:

1. :class:`SecurityHeaders`: baseline headers on every response (no sniffing, no framing, no
   referrer, a CSP that allows nothing, since JSON needs nothing). A page that sets its own,
   like GraphiQL's (``cms.web.graphiql``), keeps them.
2. Starlette's ``CORSMiddleware``, only when ``CMS_CORS_ORIGINS`` lists origins: by default no
   other site's page may read a response. It sits outside the rate limiter so that a 429
   carries the CORS headers a browser needs to show it to the page.
3. :class:`~cms.web.proxies.TrustedProxyMiddleware`: who the client is.
4. :class:`~cms.web.graphql_http.GraphQLMediaType`: the GraphQL-over-HTTP media type.
5. :class:`~cms.web.ratelimit.RateLimitMiddleware`: requests per client.
6. :class:`~cms.web.transport.TransportGuard`: media type, size and shape of the body.

WebSocket handshakes from other sites' pages are refused (403) by strawberry's view, which
checks ``Origin`` against the same ``CMS_CORS_ORIGINS`` (see ``cms.graphql.view``).

:func:`internal_error` is Starlette's last resort for an exception nothing else handled (in a
middleware, say): a GraphQL-shaped 500 with an ``errorId`` that is logged beside the
traceback, and nothing of the exception itself.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from cms.errors import INTERNAL_ERROR_MESSAGE, ErrorCode
from cms.web.graphql_http import GraphQLMediaType
from cms.web.proxies import TrustedProxies, TrustedProxyMiddleware
from cms.web.ratelimit import RateLimitMiddleware, RateLimits
from cms.web.responses import error_response
from cms.web.transport import TransportGuard

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cms.settings import Settings

__all__ = [
    "BASELINE_HEADERS",
    "SecurityHeaders",
    "internal_error",
    "security_middleware",
]

logger = logging.getLogger("cms.web")

BASELINE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    # Other sites may not embed responses (images, scripts); CORS reads are unaffected.
    "Cross-Origin-Resource-Policy": "same-origin",
}

# What a page on an allowed origin may send and read (CMS_CORS_ORIGINS).
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Preview-Token", "X-Request-ID")
CORS_RESPONSE_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
)


def security_middleware(settings: Settings, rate_limits: RateLimits) -> list[Middleware]:
    middleware = [Middleware(SecurityHeaders)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=list(CORS_REQUEST_HEADERS),
                expose_headers=list(CORS_RESPONSE_HEADERS),
                # Bearer tokens travel in a header, never in cookies: no credentials mode.
                allow_credentials=False,
                max_age=600,
            )
        )
    middleware += [
        Middleware(TrustedProxyMiddleware, proxies=TrustedProxies(settings.trusted_proxies)),
        Middleware(GraphQLMediaType),
        Middleware(RateLimitMiddleware, limits=rate_limits),
        Middleware(TransportGuard, settings=settings),
    ]
    return middleware


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASELINE_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    error_id = uuid.uuid4().hex
    logger.error(
        "unhandled exception %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return error_response(ErrorCode.INTERNAL_SERVER_ERROR, INTERNAL_ERROR_MESSAGE, errorId=error_id)
