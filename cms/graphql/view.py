"""The GraphQL HTTP/WebSocket endpoint: Strawberry's ASGI view with our context and encoding."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from cms.graphql.context import Context, build_context
from cms.graphql.schema import schema
from cms.settings import Settings
from cms.web.graphiql import render_graphiql


class GraphQLView(GraphQL[Context, None]):
    """Serves /graphql: queries and mutations over HTTP, GraphiQL for browsers."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return await build_context(request, response, self.settings)

    async def render_graphql_ide(self, request: Request) -> Response:
        return render_graphiql(request, self.settings)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
