"""Errors answered before (or outside) GraphQL, shaped like GraphQL's own, and each code's status.

A client reads every refusal of /graphql the same way: a JSON ``errors`` list whose entries
carry a message and a stable ``extensions.code``, whether GraphQL produced it or the transport
(size, media type, rate) did. There is no ``data`` entry: nothing was executed.

:func:`http_status` is the one place a code becomes an HTTP status: the transport's refusals
below, and the status of a GraphQL operation that never began (``cms.web.graphql_http``).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from cms.errors import ErrorCode

__all__ = ["HTTP_STATUS", "error_body", "error_response", "http_status"]

JSON = "application/json"

# Keyed by str: members hash and compare as their values, so plain strings find them too.
HTTP_STATUS: dict[str, int] = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.THROTTLED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
    ErrorCode.GRAPHQL_PARSE_FAILED: 400,
    ErrorCode.GRAPHQL_VALIDATION_FAILED: 400,
    ErrorCode.QUERY_TOO_DEEP: 400,
    ErrorCode.TOO_MANY_ALIASES: 400,
    ErrorCode.QUERY_TOO_LARGE: 400,
    ErrorCode.QUERY_TOO_COMPLEX: 400,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.BATCHING_NOT_SUPPORTED: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    # Apollo's clients expect this one with 200: it asks them to send the document.
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: 200,
    ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED: 400,
    ErrorCode.SUBSCRIPTION_OVER_HTTP: 400,
}


def http_status(code: str) -> int:
    """The HTTP status of a response refused with ``code`` (400 for a code it does not know)."""
    return HTTP_STATUS.get(code, 400)


def error_body(message: str, code: ErrorCode, **extensions: object) -> bytes:
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return orjson.dumps({"errors": [error]})


def error_response(
    code: ErrorCode,
    message: str,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: object,
) -> Response:
    """A refusal with ``code``, at its :func:`http_status` unless ``status`` says otherwise."""
    return Response(
        error_body(message, code, **extensions),
        status_code=http_status(code) if status is None else status,
        headers=dict(headers or {}),
        media_type=JSON,
    )
