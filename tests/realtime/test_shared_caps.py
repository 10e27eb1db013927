"""WebSocket connection caps shared by workers through Redis (needs CMS_TEST_REDIS_URL).

Two apps on one Redis stand for two worker processes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.graphql.websocket import TOO_MANY_CONNECTIONS
from cms.realtime import LiveUpdates
from cms.settings import Settings
from tests.realtime.wsclient import Closed, connected

REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL")


@pytest.fixture
async def workers(live_settings: Settings) -> AsyncIterator[tuple[Starlette, Starlette]]:
    settings = live_settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "realtime_channel": f"cms-test:{uuid.uuid4()}",
            "limits_key_prefix": f"cms:test-limits:{uuid.uuid4().hex}",
            "ws_max_connections_per_client": 2,
        }
    )
    first = create_app(settings, manage_database=False)
    second = create_app(settings, manage_database=False)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        yield first, second


async def test_a_client_may_hold_only_so_many_connections_across_workers(
    workers: tuple[Starlette, Starlette],
) -> None:
    first, second = workers
    async with connected(first) as one, connected(second):
        # Each worker holds one: a cap per worker would let this in.
        async with connected(first) as third:
            with pytest.raises(Closed) as closed:
                await third.receive()
            assert closed.value.code == TOO_MANY_CONNECTIONS
        await one.disconnect()
        async with connected(second) as again:
            assert (await again.init())["type"] == "connection_ack"
    live: LiveUpdates = first.state.live
    assert await live.connections.open_connections("127.0.0.1") == 0


async def test_connections_of_a_worker_that_died_stop_counting_when_their_leases_end(
    workers: tuple[Starlette, Starlette],
) -> None:
    from redis.asyncio import Redis

    first, _ = workers
    prefix = first.state.settings.limits_key_prefix
    # Two connections a killed worker never closed: their leases ran out long ago.
    async with Redis.from_url(REDIS_URL or "") as redis:
        await redis.zadd(f"{prefix}:ws-connections:127.0.0.1", {"dead-1": 1, "dead-2": 1})
    async with connected(first) as ws:
        assert (await ws.init())["type"] == "connection_ack"
