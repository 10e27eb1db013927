"""One log line and one set of metrics per HTTP request, under a request id.

The middleware wraps the whole app. For each HTTP request it

- takes the caller's ``X-Request-ID`` when it is sane (at most 200 characters of
  ``A-Z a-z 0-9 . _ -``), else makes one, binds it to every log line of the request and returns
  it in the response's ``X-Request-ID`` header;
- opens a :class:`RequestRecord` that the GraphQL layer fills in (operation name, error codes)
  and a SQL statement counter;
- answers 503 with a GraphQL-shaped ``SERVICE_UNAVAILABLE`` error when the database could not
  serve the request before GraphQL execution began (while building the request's context);
- logs ``request`` with method, path, status, duration_ms, sql_statements, operation and client,
  and updates the request, latency and statement metrics.

Health probes and scrapes (``/healthz``, ``/readyz``, ``/metrics``) log at debug level so that
they do not drown the requests people make.
"""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
import structlog
from starlette.datastructures import Headers, MutableHeaders

from cms.errors import ServiceUnavailable
from cms.observability.logging import get_logger
from cms.observability.metrics import (
    REQUEST_DURATION,
    REQUESTS,
    SQL_STATEMENTS,
    BoundedLabel,
)
from cms.observability.sql import measure_sql

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "ObservabilityMiddleware",
    "RequestRecord",
    "client_name",
    "current_request",
]

REQUEST_ID_HEADER = "x-request-id"
CLIENT_NAME_HEADERS = ("apollographql-client-name", "x-client-name")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")
_SANE_CLIENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")

log = get_logger("cms.request")
_operation_label = BoundedLabel()


@dataclass
class RequestRecord:
    """What the layers below learn about the request, for its log line and metrics."""

    request_id: str
    client: str
    operation: str | None = None
    error_codes: list[str] = field(default_factory=list)


_current: ContextVar[RequestRecord | None] = ContextVar("cms_request", default=None)


def current_request() -> RequestRecord | None:
    """The record of the HTTP request being answered in this context, if any."""
    return _current.get()


def client_name(headers: Headers) -> str:
    """The calling application as it names itself; ``unknown`` or ``other`` when unusable."""
    for header in CLIENT_NAME_HEADERS:
        value = headers.get(header)
        if value is not None:
            return value if _SANE_CLIENT_NAME.fullmatch(value) else "other"
    return "unknown"


def _request_id(headers: Headers) -> str:
    incoming = headers.get(REQUEST_ID_HEADER)
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _unavailable_body(exc: ServiceUnavailable) -> bytes:
    error = {"message": exc.message, "extensions": {"code": exc.code}}
    return orjson.dumps({"data": None, "errors": [error]})


class ObservabilityMiddleware:
    """Pure ASGI, so that it runs in the request's own task and context (see RequestRecord)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        record = RequestRecord(request_id=_request_id(headers), client=client_name(headers))
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = record.request_id
            await send(message)

        record_token = _current.set(record)
        log_tokens = structlog.contextvars.bind_contextvars(request_id=record.request_id)
        started = time.perf_counter()
        with measure_sql() as sql:
            try:
                await self.app(scope, receive, send_with_request_id)
            except ServiceUnavailable as exc:
                if response_started:
                    raise
                record.error_codes.append(exc.code)
                await self._unavailable(exc, send_with_request_id)
            finally:
                duration = time.perf_counter() - started
                self._observe(scope, record, status, duration, sql.statements)
                structlog.contextvars.reset_contextvars(**log_tokens)
                _current.reset(record_token)

    @staticmethod
    async def _unavailable(exc: ServiceUnavailable, send: Send) -> None:
        body = _unavailable_body(exc)
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(exc.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _observe(
        scope: Scope, record: RequestRecord, status: int, duration: float, statements: int
    ) -> None:
        path: str = scope["path"]
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        operation = _operation_label(record.operation) if record.operation else ""
        REQUESTS.labels(route=route, operation=operation, status=str(status)).inc()
        REQUEST_DURATION.labels(route=route, operation=operation).observe(duration)
        if route == "/graphql":
            SQL_STATEMENTS.labels(operation=operation).observe(statements)
        level = "debug" if path in QUIET_PATHS else "info"
        getattr(log, level)(
            "request",
            method=scope["method"],
            path=path,
            status=status,
            duration_ms=round(duration * 1000, 1),
            sql_statements=statements,
            operation=record.operation,
            client=record.client,
            errors=record.error_codes or None,
        )
