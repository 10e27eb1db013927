"""Limits on live updates: subscriptions per connection, connections per client, slow readers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.graphql.node import to_global_id
from cms.graphql.websocket import TOO_MANY_CONNECTIONS
from cms.realtime import LiveUpdates
from cms.services.events import ContentChanged
from cms.settings import Settings
from tests.factories import make_post
from tests.realtime.conftest import eventually, subscribed
from tests.realtime.wsclient import Closed, connected

POST_CHANGED = "subscription ($id: ID!) { postChanged(id: $id) { id version } }"
QUEUE_SIZE = 3


@pytest.fixture
async def capped_app(live_settings: Settings) -> AsyncIterator[Starlette]:
    settings = live_settings.model_copy(
        update={
            "ws_max_subscriptions": 2,
            "ws_max_connections_per_client": 2,
            "ws_queue_size": QUEUE_SIZE,
        }
    )
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        yield app


async def test_a_connection_may_hold_only_so_many_subscriptions(capped_app: Starlette) -> None:
    post_id = to_global_id("Post", (await make_post()).id)
    async with connected(capped_app) as ws:
        await ws.init()
        await ws.subscribe("1", POST_CHANGED, {"id": post_id})
        await ws.subscribe("2", POST_CHANGED, {"id": post_id})
        await subscribed(capped_app, 2)

        await ws.subscribe("3", POST_CHANGED, {"id": post_id})

        refused = await ws.receive()
        assert refused["id"] == "3"
        assert refused["type"] == "error"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        # Completing one makes room again.
        await ws.send({"id": "1", "type": "complete"})
        await eventually(lambda: capped_app.state.live.broadcaster.subscriber_count == 1)
        await ws.subscribe("4", POST_CHANGED, {"id": post_id})
        await subscribed(capped_app, 2)


async def test_a_client_address_may_hold_only_so_many_connections(capped_app: Starlette) -> None:
    async with connected(capped_app) as first, connected(capped_app):
        async with connected(capped_app) as third:
            with pytest.raises(Closed) as closed:
                await third.receive()
            assert closed.value.code == TOO_MANY_CONNECTIONS
        # Another address has its own allowance.
        async with connected(capped_app, client_address="192.0.2.7") as other:
            assert (await other.init())["type"] == "connection_ack"
        await first.disconnect()
        async with connected(capped_app) as again:
            assert (await again.init())["type"] == "connection_ack"
    live: LiveUpdates = capped_app.state.live
    assert live.connections.open_connections("127.0.0.1") == 0


async def test_a_slow_reader_keeps_only_the_newest_changes_queued(
    capped_app: Starlette,
) -> None:
    post = await make_post()
    live: LiveUpdates = capped_app.state.live
    # An outbox of one unread message: the server blocks sending, as on a stalled socket.
    async with connected(capped_app, outbox_size=1) as ws:
        await ws.init()
        await ws.subscribe("1", POST_CHANGED, {"id": to_global_id("Post", post.id)})
        await subscribed(capped_app)

        for _ in range(50):
            await live.broadcaster.publish(
                ContentChanged(kind="post.updated", post_ids=frozenset({post.id}))
            )

        (inbox,) = live.broadcaster.inboxes
        assert inbox.queue.qsize() <= QUEUE_SIZE
        assert inbox.dropped >= 50 - QUEUE_SIZE - 2
        delivered = 0
        while True:
            try:
                await ws.next_data("1", within=0.3)
            except TimeoutError:
                break
            delivered += 1
        # What was queued, plus at most the event in hand and the send that was blocked.
        assert 1 <= delivered <= QUEUE_SIZE + 2
