"""``GET /metrics``: the metrics of ``cms.observability.metrics``, in Prometheus text.

``/metrics`` is for Prometheus, not for the public: with ``CMS_METRICS_TOKEN`` set it answers
only requests that carry ``Authorization: Bearer <token>`` (401 ``UNAUTHENTICATED``
otherwise); without one it is served in development and test, and not at all in production
(404), where the token is the way to turn it on.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
from prometheus_client.exposition import generate_latest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.errors import ErrorCode
from cms.observability.metrics import DB_POOL_CONNECTIONS
from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.requests import Request

    from cms.settings import Settings

__all__ = ["metrics_endpoint", "metrics_routes"]


def _update_pool_gauge() -> None:
    from tortoise import connections
    from tortoise.exceptions import ConfigurationError

    try:
        client = connections.get("default")
    except (ConfigurationError, KeyError):
        return
    pool_stats = getattr(client, "pool_stats", None)  # only the PostgreSQL client has a pool
    stats = pool_stats() if pool_stats is not None else None
    for state, value in (stats or {}).items():
        DB_POOL_CONNECTIONS.labels(state=state).set(value)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: everything above, plus the process collectors, in Prometheus text."""
    _update_pool_gauge()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """``/metrics`` as the settings allow it: behind the token, public, or absent."""
    if settings.metrics_token is None:
        return (
            []
            if settings.env == "production"
            else [Route("/metrics", metrics_endpoint, methods=["GET"])]
        )
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()

    async def guarded(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return error_response(
                ErrorCode.UNAUTHENTICATED,
                "GET /metrics needs the bearer token set in CMS_METRICS_TOKEN.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return await metrics_endpoint(request)

    return [Route("/metrics", guarded, methods=["GET"])]
