"""The GraphQL HTTP/WebSocket endpoint: Strawberry's ASGI view with our context, caching and
encoding.

Single GET and POST operations take our own path through ``handle_http``:

1. **Persisted queries** (Apollo's APQ, see ``cms.cache.apq``) turn a hash into its document.
   A document sent with its hash is remembered only once its operation ran: parsed, validated,
   within every limit of ``cms.graphql.guard``, its credentials accepted.
2. **Response cache**: a query from a request without credentials (no ``Authorization``, no
   ``X-Preview-Token``) is served through ``cms.cache.ResponseCache``, keyed by its normalized
   document, operation name and variables. Anything else (mutations, signed-in viewers,
   previews) runs every time and is never stored.
3. **HTTP caching**: GET responses carry a strong ``ETag`` and answer ``If-None-Match`` with 304.
   Public responses say ``Cache-Control: public`` with their ``Surrogate-Key`` list, so that a
   CDN can keep them and purge them by content; everything else says ``private, no-store``.
4. **Costs**: with ``CMS_DEBUG_TIMING`` every response has a ``Server-Timing`` header and
   ``extensions.cost`` figures: database time, SQL statements and total time.

Which operation runs is the GraphQL spec's GetOperation: the one ``operationName`` names, or the
only one. A document with several operations and no ``operationName`` is refused
(BAD_USER_INPUT), as is a subscription (over WebSocket only).

Everything else (GraphiQL, WebSockets, streaming and multipart requests) is Strawberry's.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import lru_cache
from typing import Any

import orjson
from cross_web import HTTPException, StarletteRequestAdapter
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from cms.cache import build_persisted_queries, build_response_cache
from cms.cache.apq import NOT_FOUND_MESSAGE, is_sha256, sha256_of
from cms.cache.keys import etag_matches, response_key
from cms.cache.response import Produced, Served
from cms.cache.tracking import track_root_fields, tracking
from cms.errors import ErrorCode
from cms.graphql.compiled import execution_path
from cms.graphql.context import PREVIEW_TOKEN_HEADER, Context, build_context
from cms.graphql.guard import PARSE_MEMO_MAX_CHARS
from cms.graphql.schema import schema
from cms.graphql.websocket import SubscriptionHandler
from cms.observability.sql import SQLStats, measure_sql
from cms.settings import Settings
from cms.web.graphiql import render_graphiql
from cms.web.graphql_http import operation_refused, record_request_error
from cms.web.responses import error_response

JSON = "application/json"
NO_STORE = "private, no-store"
# A shared cache must not hand a public answer to a request with credentials, nor one media
# type's answer to a client that asked for another.
VARY = "Accept, Authorization, X-Preview-Token"
# Only documents that parse are cached; a parse is memoized by the exact document text.
_MAX_TOKENS_FOR_CACHING = 20_000


class _RequestAdapter(StarletteRequestAdapter):
    """Strawberry's, with the media type read case-insensitively (RFC 9110), as
    ``cms.web.transport`` reads it: strawberry refused ``APPLICATION/JSON``."""

    @property
    def content_type(self) -> str | None:
        value = super().content_type
        if value is None:
            return None
        media_type, separator, parameters = value.partition(";")
        return media_type.strip().lower() + separator + parameters


class GraphQLView(GraphQL[Context, None]):
    """Serves /graphql: queries and mutations over HTTP, GraphiQL for browsers."""

    request_adapter_class = _RequestAdapter

    # Subscriptions: sign-in at connection_init and connection caps (cms.graphql.websocket).
    graphql_transport_ws_handler_class = SubscriptionHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # Only the protocol whose handler signs in and enforces the caps.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # WebSocket handshakes from pages on other origins are refused (403) unless
            # CMS_CORS_ORIGINS allows them, as it does their HTTP requests (cms.web.security).
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.cache = build_response_cache(settings)
        self.persisted_queries = build_persisted_queries(settings)
        track_root_fields(schema._schema)
        public = f"public, max-age={settings.http_max_age}, s-maxage={int(settings.cache_ttl)}"
        if settings.cache_swr:
            public += f", stale-while-revalidate={int(settings.cache_swr)}"
        self._public_cache_control = public

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's lifespan: the response cache serves only inside this block."""
        async with AsyncExitStack() as stack:
            if self.cache is not None:
                await stack.enter_async_context(self.cache.running())
            try:
                yield
            finally:
                if self.persisted_queries.redis is not None:
                    await self.persisted_queries.redis.aclose()

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return await build_context(request, response, self.settings)

    async def render_graphql_ide(self, request: Request) -> Response:
        return render_graphiql(request, self.settings)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson's error is a json.JSONDecodeError, which strawberry turns into a 400.
        return orjson.loads(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.handle_http(request)
        except HTTPException as exc:
            response = PlainTextResponse(exc.reason, status_code=exc.status_code)
        await response(scope, receive, send)

    async def handle_http(self, request: Request) -> Response:
        started = time.perf_counter()
        adapter = self.request_adapter_class(request)
        if not self.is_request_allowed(adapter) or (
            "extensions" not in request.query_params and self.should_render_graphql_ide(adapter)
        ):
            return await self.run(request)
        data = await self.parse_http_body(adapter)
        if isinstance(data, list) or data.protocol != "http":
            return await self.run(request)  # the body is cached by the request: parsed again

        persisted = await self._resolve_persisted_query(data)
        if isinstance(persisted, Response):
            return persisted
        if data.query is None:
            return await self.run(request)  # strawberry's own "no query" answer
        if not isinstance(data.operation_name, str | None):
            # Not a well-formed request (GraphQL over HTTP): 400 whatever the client accepts.
            return _refusal(ErrorCode.BAD_REQUEST, "`operationName` must be a string or null.")
        document = _document(data.query)
        # A document that does not parse is strawberry's to answer, with the parser's error.
        selected = _selected(document, data.operation_name) if document is not None else None
        if isinstance(selected, str):
            # An operation that never began: 200 for JSON, 400 for graphql-response+json.
            record_request_error(request, 400)
            return _refusal(ErrorCode.BAD_USER_INPUT, selected, status=200)
        operation = selected.operation if selected is not None else None
        if operation is OperationType.SUBSCRIPTION:
            # Executed over HTTP, a subscription would resolve as a query and fail inside.
            return _refusal(
                ErrorCode.SUBSCRIPTION_OVER_HTTP,
                "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql.",
            )

        with measure_sql() as sql:
            served = await self._serve(request, data, is_query=operation is OperationType.QUERY)
        if persisted is not None and not operation_refused(request):
            await self.persisted_queries.remember(persisted, data.query)
        return self._response(request, served, sql, started)

    async def _serve(self, request: Request, data: GraphQLRequestData, *, is_query: bool) -> Served:
        assert data.query is not None  # noqa: S101 - checked by the caller
        adapter = self.request_adapter_class(request)

        async def produce() -> Produced:
            sub_response = await self.get_sub_response(request)
            context = await self.get_context(request, sub_response)
            with tracking() as touched:
                result = await self.execute_single(
                    request=request,
                    request_adapter=adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=None,
                    request_data=data,
                )
            body = self.encode_json(await self.process_result(request=request, result=result))
            status = sub_response.status_code or 200
            viewer = context.viewer
            return Produced(
                body=body,
                status=status,
                headers=tuple(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in sub_response.headers.raw
                ),
                surrogate_keys=frozenset(touched),
                # Shared only when nothing about it depends on who asked.
                shareable=(
                    is_query
                    and status == 200
                    and not result.errors
                    and result.data is not None
                    and not viewer.is_authenticated
                    and not context.visibility.sees_unpublished
                ),
            )

        if self.cache is None or not self._public(request) or not is_query:
            return Served.of_produced(await produce(), "bypass")
        key = response_key(
            data.query,
            operation_name=data.operation_name,
            variables=data.variables,
            audience="anonymous",
        )
        return await self.cache.serve(key, produce)

    async def _resolve_persisted_query(self, data: GraphQLRequestData) -> Response | str | None:
        """Fill in the document of an APQ request.

        A response when the request must end here; the hash to remember the document under,
        once it has run, when the request registers one.
        """
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            return None
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return _refusal(
                ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, "Unsupported persisted query version"
            )
        sha256 = persisted.get("sha256Hash")
        if not is_sha256(sha256):
            return _refusal(
                ErrorCode.BAD_REQUEST, "persistedQuery.sha256Hash must be 64 hex digits"
            )
        assert isinstance(sha256, str)  # noqa: S101 - is_sha256 said so
        if data.query is None:
            data.query = await self.persisted_queries.lookup(sha256)
            if data.query is None:
                # 200, as Apollo's link expects; never stored, or the retry would find it again.
                return _refusal(ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE)
            return None
        if sha256_of(data.query) != sha256:
            return _refusal(ErrorCode.BAD_REQUEST, "provided sha does not match query")
        return sha256

    @staticmethod
    def _public(request: Request) -> bool:
        headers = request.headers
        return "authorization" not in headers and PREVIEW_TOKEN_HEADER not in headers

    def _response(
        self, request: Request, served: Served, sql: SQLStats, started: float
    ) -> Response:
        is_get = request.method == "GET"
        headers: dict[str, str] = dict(served.headers)
        headers["Vary"] = VARY
        if served.shareable and self._public(request):
            headers["Cache-Control"] = self._public_cache_control
            headers["Surrogate-Key"] = " ".join(sorted(served.surrogate_keys))
        else:
            headers["Cache-Control"] = NO_STORE
        if served.outcome != "bypass":
            headers["X-Cache"] = served.outcome.upper()
        body = served.body
        etag = served.etag
        if self.settings.debug_timing:
            timing = _timing(sql, started, served.outcome)
            headers["Server-Timing"] = timing.header
            body = _with_cost(body, timing.figures)
            # The cost figures differ per response; the data they describe does not.
            etag = "W/" + etag
        if is_get and served.status == 200 and served.shareable:
            headers["ETag"] = etag
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=headers)
        return Response(body, status_code=served.status, headers=headers, media_type=JSON)


def _document(query: str) -> DocumentNode | None:
    # Only to learn which operation runs; strawberry parses (and caches) on its own. Large
    # documents are parsed every time, so that the memo stays small whatever clients send.
    return _parsed(query) if len(query) <= PARSE_MEMO_MAX_CHARS else _parse(query)


# A GraphQL name short enough to repeat in an error message.
_ECHOABLE_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


def _selected(document: DocumentNode, name: str | None) -> OperationDefinitionNode | str:
    """The operation that runs, as the spec's GetOperation picks it, or why none does.

    Strawberry would run the first of several operations (a subscription included) when no
    ``operationName`` says which, and answers the other cases in plain text without a code.
    """
    operations = [
        node for node in document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        if operations:
            return "The document holds several operations: name the one to run in `operationName`."
        return "The document holds no operation to run."
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    if _ECHOABLE_NAME.fullmatch(name):
        return f"The document holds no operation named `{name}`."
    # Not a name any document could hold: not echoed, since a client could make it huge.
    return "The document holds no operation by that name."


def _parse(query: str) -> DocumentNode | None:
    try:
        return parse(query, no_location=True, max_tokens=_MAX_TOKENS_FOR_CACHING)
    except GraphQLError:
        return None


_parsed = lru_cache(maxsize=256)(_parse)


def _refusal(code: ErrorCode, message: str, *, status: int | None = None) -> Response:
    # Refusals depend on the request alone: no cache may keep one.
    return error_response(code, message, status=status, headers={"Cache-Control": NO_STORE})


class _Timing:
    def __init__(self, header: str, figures: dict[str, float | int | str]) -> None:
        self.header = header
        self.figures = figures


def _timing(sql: SQLStats, started: float, outcome: str) -> _Timing:
    total_ms = (time.perf_counter() - started) * 1000
    db_ms = sql.seconds * 1000
    header = (
        f'db;dur={db_ms:.2f}, sql;desc="{sql.statements} statements", '
        f'total;dur={total_ms:.2f}, cache;desc="{outcome}"'
    )
    figures: dict[str, float | int | str] = {
        "dbMs": round(db_ms, 3),
        "sqlStatements": sql.statements,
        "totalMs": round(total_ms, 3),
        "cache": outcome,
    }
    # Which executor built a response made for this request (cms.graphql.compiled).
    path = execution_path() if outcome in ("miss", "bypass") else None
    if path is not None:
        header += f', exec;desc="{path}"'
        figures["execution"] = path
    return _Timing(header, figures)


def _with_cost(body: bytes, figures: dict[str, float | int | str]) -> bytes:
    payload = orjson.loads(body)
    if not isinstance(payload, dict):
        return body
    extensions = payload.setdefault("extensions", {})
    extensions.setdefault("cost", {}).update(figures)
    return orjson.dumps(payload)
