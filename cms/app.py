"""The ASGI application: ``create_app(settings)`` wires routes, the GraphQL view and the DB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from cms.auth.throttle import LoginThrottle
from cms.db import database
from cms.graphql.view import GraphQLView
from cms.limit_store import LimitStore
from cms.observability.logging import configure_logging
from cms.observability.middleware import ObservabilityMiddleware
from cms.observability.sql import install_sql_counter
from cms.realtime import LiveUpdates
from cms.services.scheduler import Scheduler
from cms.settings import Settings, get_settings
from cms.web.concurrency import ConcurrencyLimit
from cms.web.graphiql import graphiql_routes
from cms.web.health import health_routes
from cms.web.metrics import metrics_routes
from cms.web.ratelimit import RateLimits
from cms.web.security import internal_error, security_middleware
from cms.webhooks import dispatching


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """Build the app. ``manage_database=False`` leaves opening connections to the caller (tests)."""
    settings = settings or get_settings()
    configure_logging(settings)
    install_sql_counter()
    view = GraphQLView(settings)
    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        *health_routes(),
        *metrics_routes(settings),
        *graphiql_routes(settings),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as running:
            if manage_database:
                await running.enter_async_context(database(settings))
                if settings.scheduler_interval_seconds:
                    scheduler = Scheduler(interval=settings.scheduler_interval_seconds)
                    await running.enter_async_context(scheduler.running())
                if settings.webhooks_dispatch:
                    await running.enter_async_context(dispatching(settings))
            # Subscriptions hear changes whoever opened the database (tests open it themselves).
            await running.enter_async_context(app.state.live.running())
            # The response cache serves only while it hears content changes (cms.cache).
            await running.enter_async_context(view.running())
            running.push_async_callback(limit_store.close)
            yield

    # Every per-client counter, in Redis when configured (see cms.limit_store): the request,
    # cost and login allowances (cms.web.ratelimit) that the rate-limit middleware and the
    # GraphQL layer (cms.graphql.guard) draw from, login throttles, WebSocket caps.
    limit_store = LimitStore(settings.redis_url, prefix=settings.limits_key_prefix)
    rate_limits = RateLimits.from_settings(settings, limit_store)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            # Outermost of ours: its request id and timing cover everything below it.
            Middleware(ObservabilityMiddleware),
            # Requests in progress at once, idle connections aside (cms.web.concurrency).
            Middleware(ConcurrencyLimit, limit=settings.max_concurrency),
            # Headers, CORS, client address, limits on size, media type and rate.
            *security_middleware(settings, rate_limits),
        ],
        # The last resort for an exception nothing else handled: JSON, with no details.
        exception_handlers={500: internal_error},
    )
    app.state.settings = settings
    app.state.rate_limits = rate_limits
    app.state.login_throttle = LoginThrottle(
        limit_store,
        burst=settings.login_burst,
        refill_seconds=settings.login_refill_seconds,
        max_backoff=settings.login_max_backoff_seconds,
    )
    # The subscriptions' broadcaster and connection caps (see cms.realtime).
    app.state.live = LiveUpdates.from_settings(settings, limit_store)
    return app
