"""Fixtures for live updates: an app whose lifespan runs (broadcaster started), and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.realtime import LiveUpdates
from cms.settings import Settings


async def eventually(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until ``condition()`` holds, failing after ``within`` seconds.

    For state the app changes in its own tasks (a subscription starting to listen), where
    there is no event to await: the loop yields until the state is there, it does not guess.
    """
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await asyncio.sleep(0.01)


async def subscribed(app: Starlette, count: int = 1) -> None:
    """Wait until ``count`` subscriptions of ``app`` are listening for changes."""
    live: LiveUpdates = app.state.live
    await eventually(lambda: live.broadcaster.subscriber_count >= count)


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhooks_dispatch": False})


@pytest.fixture
async def live_app(live_settings: Settings) -> AsyncIterator[Starlette]:
    """The app with its lifespan running, on the database the fixtures opened."""
    app = create_app(live_settings, manage_database=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def live_client(live_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=live_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
