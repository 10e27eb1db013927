"""Live updates across worker processes, through Redis pub/sub (needs CMS_TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette

from cms.app import create_app
from cms.graphql.node import to_global_id
from cms.models import Role
from cms.realtime import RedisBroadcaster
from cms.services.events import ContentChanged
from cms.settings import Settings
from tests.conftest import SignIn
from tests.factories import make_post
from tests.liveservers import cms_worker, served
from tests.realtime.conftest import subscribed
from tests.realtime.wsclient import connected

REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL")

POST_PUBLISHED = "subscription { postPublished { id title } }"
CREATE_POST = """
mutation ($input: CreatePostInput!) {
  createPost(input: $input) { post { id } errors { code message } }
}
"""


@pytest.fixture
def redis_settings(live_settings: Settings) -> Settings:
    # Pub/sub channels are server-wide, whatever the database number: one per test, so that
    # test runs sharing the Redis server never hear each other.
    return live_settings.model_copy(
        update={"redis_url": REDIS_URL, "realtime_channel": f"cms-test:{uuid.uuid4()}"}
    )


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[Starlette]:
    async with app.router.lifespan_context(app):
        yield app


async def test_a_subscriber_hears_a_change_another_app_publishes_through_redis(
    redis_settings: Settings,
) -> None:
    post = await make_post(title="From elsewhere")
    reader = create_app(redis_settings, manage_database=False)
    writer = create_app(redis_settings, manage_database=False)
    assert isinstance(reader.state.live.broadcaster, RedisBroadcaster)
    async with running(reader), running(writer), connected(reader) as ws:
        await ws.init()
        await ws.subscribe("1", POST_PUBLISHED)
        await subscribed(reader)

        # Only the writer's broadcaster hears it: the reader can learn of it through Redis alone.
        await writer.state.live.broadcaster.publish(
            ContentChanged(kind="post.published", post_ids=frozenset({post.id}))
        )

        data = await ws.next_data("1", within=1.0)
        assert data["postPublished"] == {"id": to_global_id("Post", post.id), "title": post.title}


async def test_a_malformed_channel_message_is_ignored(redis_settings: Settings) -> None:
    from redis.asyncio import Redis

    post = await make_post()
    reader = create_app(redis_settings, manage_database=False)
    async with running(reader), connected(reader) as ws:
        await ws.init()
        await ws.subscribe("1", POST_PUBLISHED)
        await subscribed(reader)
        redis = Redis.from_url(redis_settings.redis_url or "")
        try:
            await redis.publish(redis_settings.realtime_channel, b"{not json")
            await redis.publish(redis_settings.realtime_channel, json.dumps({"v": 99}))
            await redis.publish(
                redis_settings.realtime_channel,
                json.dumps({"v": 1, "kind": "post.published", "post_ids": [post.id]}),
            )
        finally:
            await redis.aclose()

        data = await ws.next_data("1", within=1.0)
        assert data["postPublished"]["id"] == to_global_id("Post", post.id)


@pytest.fixture
def writer_process(redis_settings: Settings) -> Iterator[str]:
    """Another worker: `cms serve` in its own process, on the same database and Redis."""
    with cms_worker(
        {
            "CMS_DATABASE_URL": redis_settings.database_url,
            "CMS_REDIS_URL": redis_settings.redis_url or "",
            "CMS_REALTIME_CHANNEL": redis_settings.realtime_channel,
            "CMS_WEBHOOKS_DISPATCH": "false",
        }
    ) as base_url:
        yield base_url


async def receive(connection: Any, within: float = 1.0) -> dict[str, Any]:
    message = await asyncio.wait_for(connection.recv(), within)
    assert isinstance(message, str), "graphql-transport-ws messages are text frames"
    result: dict[str, Any] = json.loads(message)
    return result


async def test_a_mutation_on_another_worker_process_reaches_a_websocket_subscriber_here(
    redis_settings: Settings, writer_process: str, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    reader = create_app(redis_settings, manage_database=False)
    async with (
        served(reader) as address,
        websockets.connect(
            f"ws://{address}/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as connection,
    ):
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(connection))["type"] == "connection_ack"
        await connection.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": POST_PUBLISHED}})
        )
        await subscribed(reader)

        async with httpx.AsyncClient(base_url=writer_process) as http:
            response = await http.post(
                "/graphql",
                json={
                    "query": CREATE_POST,
                    "variables": {"input": {"title": "Hot off the press", "status": "PUBLISHED"}},
                },
                headers=editor.headers,
            )
        committed = time.monotonic()
        created = response.json()["data"]["createPost"]
        assert created["errors"] == []

        message = await receive(connection, within=1.0)
        assert time.monotonic() - committed < 1.0
        assert (message["id"], message["type"]) == ("1", "next")
        assert message["payload"]["data"] == {
            "postPublished": {"id": created["post"]["id"], "title": "Hot off the press"}
        }
