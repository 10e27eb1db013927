"""Subscriptions over graphql-transport-ws: what each subscriber hears, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from cms.auth.tokens import digest_of
from cms.graphql.node import to_global_id
from cms.graphql.websocket import INVALID_CREDENTIALS
from cms.models import ApiToken, PostStatus, Role
from tests.conftest import SignIn
from tests.factories import make_post, make_tag
from tests.realtime.conftest import subscribed
from tests.realtime.wsclient import Closed, WebSocketClient, connected

POST_PUBLISHED = """
subscription ($tag: String) {
  postPublished(tag: $tag) { id title status tags { slug } }
}
"""
POST_CHANGED = """
subscription ($id: ID!) {
  postChanged(id: $id) { id title status version }
}
"""
CREATE_POST = """
mutation ($input: CreatePostInput!) {
  createPost(input: $input) { post { id version } errors { code message } }
}
"""
PUBLISH_POST = """
mutation ($input: PublishPostInput!) {
  publishPost(input: $input) { post { id version } errors { code message } }
}
"""
UPDATE_POST = """
mutation ($input: UpdatePostInput!) {
  updatePost(input: $input) { post { id version } errors { code message } }
}
"""
UNPUBLISH_POST = """
mutation ($input: UnpublishPostInput!) {
  unpublishPost(input: $input) { post { id version } errors { code message } }
}
"""


async def mutate(
    client: httpx.AsyncClient, document: str, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": document, "variables": {"input": input}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["errors"] == [], payload
    result: dict[str, Any] = payload["post"]
    return result


async def test_a_published_post_reaches_anonymous_subscribers(
    live_app: Starlette, live_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    async with connected(live_app) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        await ws.subscribe("1", POST_PUBLISHED)
        await subscribed(live_app)

        draft = await mutate(live_client, CREATE_POST, editor.headers, title="Hello")
        await ws.expect_silence()
        await mutate(
            live_client,
            PUBLISH_POST,
            editor.headers,
            id=draft["id"],
            expectedVersion=draft["version"],
        )

        data = await ws.next_data("1", within=1.0)
        assert data["postPublished"]["id"] == draft["id"]
        assert data["postPublished"]["status"] == "PUBLISHED"


async def test_post_published_filters_by_tag(
    live_app: Starlette, live_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    await make_tag("Python")
    await make_tag("Rust")
    async with connected(live_app) as ws:
        await ws.init()
        await ws.subscribe("py", POST_PUBLISHED, {"tag": "python"})
        await subscribed(live_app)

        await mutate(
            live_client,
            CREATE_POST,
            editor.headers,
            title="Crabs",
            tags=["rust"],
            status="PUBLISHED",
        )
        snakes = await mutate(
            live_client,
            CREATE_POST,
            editor.headers,
            title="Snakes",
            tags=["python"],
            status="PUBLISHED",
        )

        data = await ws.next_data("py")
        assert data["postPublished"]["id"] == snakes["id"]
        assert data["postPublished"]["tags"] == [{"slug": "python"}]
        await ws.expect_silence()


async def test_changes_to_a_draft_reach_its_editor_but_not_anonymous_readers(
    live_app: Starlette, live_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    draft = await mutate(live_client, CREATE_POST, editor.headers, title="Secret plans")
    async with connected(live_app) as anonymous, connected(live_app) as signed_in:
        await anonymous.init()
        assert (await signed_in.init({"authorization": f"Bearer {editor.token}"}))[
            "type"
        ] == "connection_ack"
        await anonymous.subscribe("a", POST_CHANGED, {"id": draft["id"]})
        await signed_in.subscribe("e", POST_CHANGED, {"id": draft["id"]})
        await subscribed(live_app, 2)

        await mutate(
            live_client,
            UPDATE_POST,
            editor.headers,
            id=draft["id"],
            expectedVersion=draft["version"],
            title="Still secret",
        )

        data = await signed_in.next_data("e")
        assert data["postChanged"] == {
            "id": draft["id"],
            "title": "Still secret",
            "status": "DRAFT",
            "version": 2,
        }
        await anonymous.expect_silence()


async def test_post_changed_says_null_once_when_the_post_stops_being_readable(
    live_app: Starlette, live_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    post = await make_post(author=editor.author, status=PostStatus.PUBLISHED)
    post_id = to_global_id("Post", post.id)
    async with connected(live_app) as ws:
        await ws.init()
        await ws.subscribe("1", POST_CHANGED, {"id": post_id})
        await subscribed(live_app)

        unpublished = await mutate(
            live_client, UNPUBLISH_POST, editor.headers, id=post_id, expectedVersion=1
        )
        assert (await ws.next_data("1"))["postChanged"] is None
        # Further changes to what is now a draft stay private.
        await mutate(
            live_client,
            UPDATE_POST,
            editor.headers,
            id=post_id,
            expectedVersion=unpublished["version"],
            title="Reworked",
        )
        await ws.expect_silence()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"authorization": "Bearer cms_unknown"}, id="unknown-token"),
        pytest.param({"authorization": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
        pytest.param({"authorization": 42}, id="not-a-string"),
    ],
)
async def test_bad_credentials_in_connection_init_close_the_connection(
    live_app: Starlette, payload: dict[str, Any]
) -> None:
    async with connected(live_app) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == INVALID_CREDENTIALS


async def test_a_revoked_token_ends_its_subscriptions_with_unauthenticated(
    live_app: Starlette, live_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    watcher = await sign_in(author=editor.author)  # a second session of the same editor
    draft = await mutate(live_client, CREATE_POST, editor.headers, title="Secret plans")
    async with connected(live_app) as ws:
        await ws.init({"authorization": f"Bearer {watcher.token}"})
        await ws.subscribe("1", POST_CHANGED, {"id": draft["id"]})
        await subscribed(live_app)
        await ApiToken.filter(digest=digest_of(watcher.token)).update(revoked_at=datetime.now(UTC))

        await mutate(
            live_client,
            UPDATE_POST,
            editor.headers,
            id=draft["id"],
            expectedVersion=draft["version"],
            title="Leaked?",
        )

        message = await ws.receive()
        assert message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await ws.receive()) == {"id": "1", "type": "complete"}


async def test_a_subscription_refuses_an_id_that_is_not_a_post(live_app: Starlette) -> None:
    async with connected(live_app) as ws:
        await ws.init()
        await ws.subscribe("1", POST_CHANGED, {"id": to_global_id("Tag", 1)})
        message = await ws.receive()
        assert message["type"] in ("next", "error"), message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_legacy_graphql_ws_protocol_is_not_served(live_app: Starlette) -> None:
    client = WebSocketClient(live_app)
    client.protocol = "graphql-ws"
    async with client as ws:
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4406


async def test_a_revoked_token_cannot_start_another_operation(
    live_app: Starlette, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    post_id = to_global_id("Post", (await make_post()).id)
    async with connected(live_app) as ws:
        await ws.init({"authorization": f"Bearer {editor.token}"})
        await ApiToken.filter(digest=digest_of(editor.token)).update(revoked_at=datetime.now(UTC))

        await ws.subscribe("1", POST_CHANGED, {"id": post_id})

        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == INVALID_CREDENTIALS
