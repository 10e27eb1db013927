"""An app with its response cache running (its lifespan started), and ways to reach inside."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import Route

from cms.app import create_app
from cms.cache.response import ResponseCache
from cms.graphql.view import GraphQLView
from cms.settings import Settings


@dataclass
class CachedApp:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def view(self) -> GraphQLView:
        for route in self.app.routes:
            if isinstance(route, Route) and isinstance(route.endpoint, GraphQLView):
                return route.endpoint
        raise LookupError("no GraphQL view")

    @property
    def cache(self) -> ResponseCache:
        assert self.view.cache is not None
        return self.view.cache

    async def post(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, **kw
        )


StartApp = Callable[..., Awaitable[CachedApp]]


@pytest.fixture
async def start_app(settings: Settings) -> AsyncIterator[StartApp]:
    """``await start_app(**settings)``: an app whose lifespan (and so whose cache) is running."""
    with_stack: list[tuple[Any, httpx.AsyncClient]] = []

    async def start(**overrides: Any) -> CachedApp:
        app = create_app(
            settings.model_copy(update={"cache": True, **overrides}), manage_database=False
        )
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        with_stack.append((lifespan, client))
        return CachedApp(app=app, client=client)

    yield start
    for lifespan, client in reversed(with_stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture(params=[pytest.param(True, id="compiled"), pytest.param(False, id="resolvers")])
async def cached(start_app: StartApp, request: pytest.FixtureRequest) -> CachedApp:
    """A running app, on each read path: both must record what they read, or purges miss."""
    return await start_app(compiled_reads=request.param)


REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the test Redis database, emptied before and after the test."""
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def redis_url(redis: Redis) -> str:
    """The test Redis database's URL, emptied before and after the test."""
    assert REDIS_URL is not None
    return REDIS_URL
