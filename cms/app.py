"""The ASGI application: ``create_app(settings)`` wires routes, the GraphQL view and the DB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from cms.db import database
from cms.graphql.view import GraphQLView
from cms.settings import Settings, get_settings
from cms.web.graphiql import graphiql_routes


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """Build the app. ``manage_database=False`` leaves opening connections to the caller (tests)."""
    settings = settings or get_settings()
    view = GraphQLView(settings)
    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz, methods=["GET"]),
        *graphiql_routes(settings),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        async with database(settings):
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    return app
