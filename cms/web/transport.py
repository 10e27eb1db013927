"""What a request to /graphql must look like before GraphQL sees it.

- **Media type.** A POST body must be ``application/json``, in any case and with any
  parameters (415 ``UNSUPPORTED_MEDIA_TYPE`` otherwise). HTML forms and ``text/plain`` are
  what a page on another site can POST without a CORS preflight; refusing them keeps
  cross-site requests from reaching any mutation. (Mutations over GET are refused by
  strawberry itself, with 405.)
- **Size.** A body holds at most ``CMS_MAX_BODY_BYTES``, or
  ``CMS_MAX_AUTHENTICATED_BODY_BYTES`` when the request's bearer token verifies (writing a
  post may need more than reading): 413 ``PAYLOAD_TOO_LARGE``. The token is verified only
  when the body is larger than the smaller cap, before reading past it; any other
  ``Authorization`` header (malformed, unknown, expired, revoked) gets the smaller cap.
  ``Content-Length`` is checked before reading, and reading stops at the cap whatever the
  header said. A GET's query string is held to the smaller cap (414).
- **Shape.** The body is one JSON object (400 ``BAD_REQUEST``): not malformed, and nested at
  most ``MAX_JSON_DEPTH`` levels, since the standard library's parser (which strawberry uses)
  overflows the stack on deeply nested input and the request would end as a 500. A JSON
  array is a batch of operations, which this API does not take: 400
  ``BATCHING_NOT_SUPPORTED`` (one operation per request keeps every limit per request). GET's
  ``variables`` and ``extensions`` parameters are held to the same depth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection

from cms.auth.backend import authenticate
from cms.errors import ErrorCode, Unauthenticated
from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cms.settings import Settings

__all__ = [
    "MAX_JSON_DEPTH",
    "TransportGuard",
]


# Far deeper than any GraphQL request needs, far shallower than Python's recursion limit.
MAX_JSON_DEPTH = 64
JSON_PARAMETERS = frozenset({"variables", "extensions"})


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class TransportGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings, path: str = "/graphql") -> None:
        self.app = app
        self.path = path
        self.max_body = settings.max_body_bytes
        self.max_authenticated_body = settings.max_authenticated_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "POST":
                receive = await self._checked_body(scope, receive)
            elif scope["method"] == "GET":
                self._check_query_string(scope)
        except _Refused as refused:
            await refused.response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _checked_body(self, scope: Scope, receive: Receive) -> Receive:
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise _Refused(
                error_response(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Send GraphQL requests as `Content-Type: application/json` "
                    f"(got {media_type or 'none'!r}).",
                )
            )
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(self._too_large(scope, self.max_body))
            limit = await self._limit(scope, needed=int(declared))
            if int(declared) > limit:
                raise _Refused(self._too_large(scope, limit))
        body = await self._read_body(scope, receive)
        _check_json_body(body)
        return _replay(body, receive)

    async def _limit(self, scope: Scope, *, needed: int) -> int:
        """The cap for a request that needs ``needed`` bytes: the larger one only when it is
        needed and the bearer token verifies (the verdict is kept for the GraphQL context)."""
        if needed <= self.max_body or "authorization" not in Headers(scope=scope):
            return self.max_body
        try:
            viewer = await authenticate(HTTPConnection(scope))
        except Unauthenticated:
            return self.max_body
        return self.max_authenticated_body if viewer.is_authenticated else self.max_body

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        limit = self.max_body
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                raise _Refused(
                    error_response(ErrorCode.BAD_REQUEST, "The request body is incomplete.")
                )
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                limit = await self._limit(scope, needed=size)
                if size > limit:
                    raise _Refused(self._too_large(scope, limit))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, scope: Scope, limit: int) -> Response:
        message = f"The request body is over {limit} bytes, the most accepted."
        if limit < self.max_authenticated_body and "authorization" in Headers(scope=scope):
            # A client whose token expired learns why its usual writes are refused.
            message += (
                f" Requests whose bearer token verifies may send {self.max_authenticated_body}"
                " bytes; this request's Authorization header did not verify."
            )
        return error_response(ErrorCode.PAYLOAD_TOO_LARGE, message)

    def _check_query_string(self, scope: Scope) -> None:
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > self.max_body:
            raise _Refused(
                error_response(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"The query string is over {self.max_body} bytes: POST large queries.",
                    status=414,  # URI Too Long: the same refusal, of a query string
                )
            )
        for name, value in parse_qsl(query_string.decode("latin-1")):
            if name in JSON_PARAMETERS and value:
                try:
                    parsed = orjson.loads(value)
                except orjson.JSONDecodeError:
                    continue  # strawberry answers malformed parameters itself (400)
                if _nested_deeper_than(parsed, MAX_JSON_DEPTH):
                    raise _Refused(_too_deep())


def _check_json_body(body: bytes) -> None:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson also refuses nesting past 1,024 levels as malformed.
        raise _Refused(
            error_response(ErrorCode.BAD_REQUEST, "The request body is not valid JSON.")
        ) from None
    if isinstance(data, list):
        raise _Refused(
            error_response(
                ErrorCode.BATCHING_NOT_SUPPORTED,
                "Batched operations (a JSON array) are not accepted: send one operation per "
                "request.",
            )
        )
    if not isinstance(data, dict):
        raise _Refused(
            error_response(
                ErrorCode.BAD_REQUEST,
                'The request body must be a JSON object like {"query": "..."}.',
            )
        )
    # Counting brackets is cheap and bounds the depth: only bodies with many are walked.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _nested_deeper_than(
        data, MAX_JSON_DEPTH
    ):
        raise _Refused(_too_deep())


def _nested_deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the client's messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _too_deep() -> Response:
    return error_response(
        ErrorCode.BAD_REQUEST,
        f"The request's JSON nests more than {MAX_JSON_DEPTH} levels deep.",
    )
