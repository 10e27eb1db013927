"""Limits on live updates: subscriptions per connection, connections per client, slow readers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
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
from tests.realtime.wsclient import Closed, WebSocketClient, connected

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
    assert await live.connections.open_connections("127.0.0.1") == 0


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


async def test_ipv6_clients_are_capped_per_64_network(capped_app: Starlette) -> None:
    # Two addresses of one /64: one host may pick a new one for every connection.
    async with (
        connected(capped_app, client_address="2001:db8:1:2::a"),
        connected(capped_app, client_address="2001:db8:1:2::b"),
        connected(capped_app, client_address="2001:db8:1:2::c") as third,
    ):
        with pytest.raises(Closed) as closed:
            await third.receive()
        assert closed.value.code == TOO_MANY_CONNECTIONS
        async with connected(capped_app, client_address="2001:db8:1:3::a") as other:
            assert (await other.init())["type"] == "connection_ack"


TYPENAME = "{ __typename }"
POSTS_30 = "{ posts(first: 30) { edges { node { title } } } }"


async def limited_app(live_settings: Settings, **limits: int) -> Starlette:
    return create_app(live_settings.model_copy(update=limits), manage_database=False)


async def refusal(ws: WebSocketClient, operation_id: str) -> dict[str, object]:
    """The error of a refused operation: its ``error`` message's only error."""
    message = await ws.receive()
    assert (message["id"], message["type"]) == (operation_id, "error"), message
    [error] = message["payload"]
    assert isinstance(error, dict)
    return error


# The hostile-client report (#12, item 6): 900 searches over one WebSocket in 4.8 s while HTTP
# answered 429. Each operation now takes a request from the allowance HTTP requests draw from.
async def test_websocket_operations_draw_from_the_clients_request_allowance(
    live_settings: Settings,
) -> None:
    app = await limited_app(live_settings, rate_limit_requests=3)
    async with app.router.lifespan_context(app), connected(app) as ws:  # the handshake: 1
        await ws.init()
        await ws.subscribe("1", TYPENAME)
        assert (await ws.next_data("1")) == {"__typename": "Query"}
        assert (await ws.receive())["type"] == "complete"
        await ws.subscribe("2", TYPENAME)
        assert (await ws.next_data("2")) == {"__typename": "Query"}
        assert (await ws.receive())["type"] == "complete"

        await ws.subscribe("3", TYPENAME)

        error = await refusal(ws, "3")
        extensions = error["extensions"]
        assert isinstance(extensions, dict)
        assert extensions["code"] == "RATE_LIMITED"
        assert extensions["retryAfter"] >= 1
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/graphql", json={"query": TYPENAME})
        assert response.status_code == 429, "HTTP shares the allowance the socket spent"


async def test_websocket_operations_are_charged_their_cost(live_settings: Settings) -> None:
    app = await limited_app(live_settings, rate_limit_cost=60, max_query_cost=60)
    async with app.router.lifespan_context(app), connected(app) as ws:
        await ws.init()
        for operation_id in ("1", "2"):
            await ws.subscribe(operation_id, POSTS_30)
            assert (await ws.next_data(operation_id)) == {"posts": {"edges": []}}
            assert (await ws.receive())["type"] == "complete"

        await ws.subscribe("3", POSTS_30)

        error = await refusal(ws, "3")
        assert "query cost points" in str(error["message"])
