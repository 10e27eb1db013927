"""GraphQL over HTTP: the ``application/graphql-response+json`` media type and its status codes.

A client that accepts ``application/graphql-response+json`` (the spec's own media type) gets
it, with a status code that says what happened:

- 200 when the operation executed: ``data`` is present, even when null or beside field errors;
- 4xx when it never began, and then the body has no ``data`` entry: 400 for a document that
  does not parse or validate or variables that do not coerce (and for any limit refused before
  execution), 401 for ``UNAUTHENTICATED``, 429 for ``RATE_LIMITED``;
- 504 ``TIMEOUT`` when it ran out of time.

A client that accepts only ``application/json``, or sends no ``Accept`` header, keeps what the
spec keeps for it: ``application/json`` and 200 for every GraphQL response.

:func:`record_request_error` is how :mod:`cms.graphql.guard` reports an operation that never
began; :class:`GraphQLMediaType` then rewrites the response's media type and status and drops
its ``data`` entry (such a body holds only errors, so it is small to rewrite).
:func:`operation_refused` tells the view whether that happened: it remembers a persisted query
only when its operation began (``cms.cache.apq``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.datastructures import Headers, MutableHeaders

from cms.web.responses import http_status

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "GraphQLMediaType",
    "operation_refused",
    "prefers_graphql_response_json",
    "record_request_error",
    "request_error_status",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_STATE_KEY = "graphql_request_error_status"


def request_error_status(codes: list[str]) -> int:
    """The status of an operation that never began: its first error's, unless that is 400."""
    return next((status for status in map(http_status, codes) if status != 400), 400)


def record_request_error(connection: HTTPConnection, status: int) -> None:
    """Note that the request's operation never began (see the module docstring)."""
    setattr(connection.state, _STATE_KEY, status)


def operation_refused(connection: HTTPConnection) -> bool:
    """Whether the request's operation was noted as never begun (:func:`record_request_error`)."""
    return getattr(connection.state, _STATE_KEY, None) is not None


def prefers_graphql_response_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for the spec's media type over plain JSON."""
    if not accept:
        return False
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[media_type.lower()] = weight
    preferred = weights.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return preferred > 0 and preferred >= weights.get(JSON, 0.0)


class GraphQLMediaType:
    def __init__(self, app: ASGIApp, *, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or not prefers_graphql_response_json(Headers(scope=scope).get("accept"))
        ):
            await self.app(scope, receive, send)
            return
        # Shared with the request objects below, which record the outcome in it.
        state: dict[str, Any] = scope.setdefault("state", {})
        held: Message | None = None
        body: list[bytes] = []

        async def negotiated_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not headers.get("content-type", "").startswith(JSON):
                    await send(message)  # GraphiQL, plain-text refusals: not ours to change
                    return
                headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
                status = state.get(_STATE_KEY)
                if status is None:
                    await send(message)
                    return
                if message["status"] == 200:
                    message["status"] = status
                held = message  # the body changes, and with it the length
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            rewritten = _without_data(b"".join(body))
            MutableHeaders(scope=held)["content-length"] = str(len(rewritten))
            await send(held)
            await send({"type": "http.response.body", "body": rewritten})

        await self.app(scope, receive, negotiated_send)


def _without_data(body: bytes) -> bytes:
    try:
        response = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(response, dict):
        response.pop("data", None)
    return orjson.dumps(response)
