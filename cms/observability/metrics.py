"""Prometheus metrics, served by ``/metrics`` (``cms.web.metrics``).

Every metric is a module constant, so that any module can count without plumbing:

    from cms.observability.metrics import CACHE_EVENTS
    CACHE_EVENTS.labels(result="hit").inc()

Label values that come from clients (operation and client names) are bounded: past
``MAX_LABEL_VALUES`` distinct values per label, new ones are counted as ``other``, so that a
client inventing names cannot grow the process's memory or the scrape without limit.

Each worker process keeps its own numbers; Prometheus scrapes one process per target, so run
one worker per container (and scale containers) when per-process numbers matter.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

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
