"""Prometheus metrics and the ``/metrics`` endpoint.

Every metric is a module constant, so that any module can count without plumbing:

    from cms.observability.metrics import CACHE_EVENTS
    CACHE_EVENTS.labels(result="hit").inc()

Label values that come from clients (operation and client names) are bounded: past
``MAX_LABEL_VALUES`` distinct values per label, new ones are counted as ``other``, so that a
client inventing names cannot grow the process's memory or the scrape without limit.

``/metrics`` is for Prometheus, not for the public: with ``CMS_METRICS_TOKEN`` set it answers
only requests that carry ``Authorization: Bearer <token>`` (401 ``UNAUTHENTICATED``
otherwise); without one it is served in development and test, and not at all in production
(404), where the token is the way to turn it on.

Each worker process keeps its own numbers; Prometheus scrapes one process per target, so run
one worker per container (and scale containers) when per-process numbers matter.
"""

from __future__ import annotations

import hmac
import re
import threading
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.requests import Request

    from cms.settings import Settings

__all__ = [
    "CACHE_EVENTS",
    "CONNECTIONS_CLOSED",
    "DB_POOL_CONNECTIONS",
    "DEPRECATED_FIELD_USES",
    "GRAPHQL_ERRORS",
    "REQUESTS",
    "REQUEST_DURATION",
    "SQL_STATEMENTS",
    "BoundedLabel",
    "metrics_endpoint",
    "metrics_routes",
]

# The *_created series (a timestamp per label set) double the scrape for little use.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client

REQUESTS = Counter(
    "cms_http_requests",
    "HTTP requests answered, by route, GraphQL operation name and status code.",
    ["route", "operation", "status"],
)
REQUEST_DURATION = Histogram(
    "cms_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route and operation.",
    ["route", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SQL_STATEMENTS = Histogram(
    "cms_sql_statements_per_request",
    "SQL statements sent to the database while answering one request, by operation.",
    ["operation"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
CACHE_EVENTS = Counter(
    "cms_cache_events",
    "Cache lookups, by result: hit or miss.",
    ["result"],
)
GRAPHQL_ERRORS = Counter(
    "cms_graphql_errors",
    "Errors in GraphQL responses, by extensions.code.",
    ["code"],
)
DEPRECATED_FIELD_USES = Counter(
    "cms_graphql_deprecated_field_uses",
    "Operations that used a deprecated field, argument or enum value, by client.",
    ["field", "client"],
)
DB_POOL_CONNECTIONS = Gauge(
    "cms_db_pool_connections",
    "PostgreSQL pool connections of this process, by state: in_use, idle, max.",
    ["state"],
)
CONNECTIONS_CLOSED = Counter(
    "cms_connections_closed",
    "Connections cms serve refused or closed (cms.web.connections), by reason: per_client "
    "and server_full (refused), idle_shed (closed for a newcomer), header_timeout, "
    "body_timeout, idle_timeout.",
    ["reason"],
)

for _result in ("hit", "miss"):
    CACHE_EVENTS.labels(result=_result)

MAX_LABEL_VALUES = 200
_SAFE_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class BoundedLabel:
    """Admits at most ``limit`` distinct label values; later newcomers become ``other``."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if not _SAFE_LABEL.fullmatch(value):
            return "other"
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self.limit:
                return "other"
            self._seen.add(value)
        return value


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
                401,
                "GET /metrics needs the bearer token set in CMS_METRICS_TOKEN.",
                "UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return await metrics_endpoint(request)

    return [Route("/metrics", guarded, methods=["GET"])]
