"""The webhooks API: who may manage them, what URLs are accepted, the delivery log, redeliver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from cms.app import create_app
from cms.graphql.node import to_global_id
from cms.models import DeliveryStatus, Role, Webhook, WebhookDelivery
from cms.services.webhooks.outbox import enqueue_webhook_events
from cms.settings import Settings
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_post
from tests.helpers import assert_max_queries
from tests.webhooks.conftest import SECRET, Clock, MakeDispatcher, Receiver, make_webhook

CREATE = """
mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    webhook { id url events active consecutiveFailures disabledAt }
    errors { code field message }
  }
}
"""
UPDATE = """
mutation ($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) {
    webhook { id url events active consecutiveFailures disabledReason }
    errors { code field message }
  }
}
"""
DELETE = """
mutation ($input: DeleteWebhookInput!) {
  deleteWebhook(input: $input) { deletedId errors { code field message } }
}
"""
LIST = "{ webhooks { totalCount edges { node { id url events active } } } }"
DELIVERIES = """
query ($webhookId: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $webhookId, first: $first, after: $after) {
    edges {
      node {
        id uid event eventId status attempts lastStatusCode lastError payload redeliveryOf
        attemptLog { statusCode durationMs error attemptedAt }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REDELIVER = """
mutation ($input: RedeliverInput!) {
  redeliver(input: $input) {
    delivery { id eventId status redeliveryOf }
    errors { code field message }
  }
}
"""
PUBLIC_URL = "https://93.184.216.34/cms-hook"


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert isinstance(result, dict)
    return result


async def test_an_admin_creates_a_webhook_and_never_sees_its_secret_again(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    result = payload(
        await graphql(
            CREATE,
            {
                "input": {
                    "url": PUBLIC_URL,
                    "events": ["POST_PUBLISHED", "TAG_CHANGED"],
                    "secret": SECRET,
                }
            },
            headers=admin.headers,
        )
    )
    assert result["errors"] == []
    webhook = result["webhook"]
    assert webhook["url"] == PUBLIC_URL
    assert webhook["events"] == ["POST_PUBLISHED", "TAG_CHANGED"]
    assert webhook["active"] is True
    assert "secret" not in webhook
    stored = await Webhook.get()
    assert stored.secret == SECRET
    assert stored.events == ["post.published", "tag.changed"]
    listed = payload(await graphql(LIST, headers=admin.headers))
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["id"] == webhook["id"]


@pytest.mark.parametrize(
    ("role", "code"),
    [
        pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
        pytest.param(Role.EDITOR, "FORBIDDEN", id="editor"),
        pytest.param(Role.AUTHOR, "FORBIDDEN", id="author"),
    ],
)
async def test_only_admins_manage_webhooks(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role | None, code: str
) -> None:
    headers = (await sign_in(role)).headers if role else {}
    variables = {"input": {"url": PUBLIC_URL, "events": ["POST_PUBLISHED"], "secret": SECRET}}
    for document, values in ((CREATE, variables), (LIST, None)):
        body = await graphql(document, values, headers=headers)
        assert body["errors"][0]["extensions"]["code"] == code
    assert await Webhook.all().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8000/hook", id="loopback"),
        pytest.param("http://10.0.0.8/hook", id="private"),
        pytest.param("http://169.254.169.254/latest/meta-data/", id="link-local-metadata"),
        pytest.param("http://[::1]/hook", id="ipv6-loopback"),
        pytest.param("http://localhost:8000/hook", id="hostname-resolving-to-loopback"),
        pytest.param("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", id="nat64-metadata"),
        pytest.param("http://[2002:a00:1::1]/hook", id="6to4-private"),
        pytest.param("http://[::127.0.0.1]:8000/hook", id="ipv4-compatible-loopback"),
        pytest.param("ftp://93.184.216.34/hook", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
    ],
)
async def test_a_webhook_url_that_could_reach_inside_the_network_is_refused(
    graphql: GraphQLRunner, sign_in: SignIn, url: str
) -> None:
    admin = await sign_in(Role.ADMIN)
    result = payload(
        await graphql(
            CREATE,
            {"input": {"url": url, "events": ["POST_PUBLISHED"], "secret": SECRET}},
            headers=admin.headers,
        )
    )
    assert result["webhook"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("BAD_USER_INPUT", "url")]
    assert await Webhook.all().count() == 0


async def test_every_invalid_field_is_reported_at_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    result = payload(
        await graphql(
            CREATE,
            {"input": {"url": "gopher://x", "events": [], "secret": "short"}},
            headers=admin.headers,
        )
    )
    assert sorted(e["field"] for e in result["errors"]) == ["events", "secret", "url"]


@pytest.fixture
async def private_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API of an app that allows private webhook URLs (CMS_WEBHOOKS_ALLOW_PRIVATE)."""
    app = create_app(
        settings.model_copy(update={"webhooks_allow_private": True}), manage_database=False
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_private_urls_are_accepted_when_the_setting_allows_them(
    private_client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    variables = {
        "input": {"url": "http://127.0.0.1:9/hook", "events": ["POST_PUBLISHED"], "secret": SECRET}
    }
    response = await private_client.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=admin.headers
    )
    assert payload(response.json())["errors"] == []


async def test_re_enabling_a_disabled_webhook_resets_its_failures(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    webhook = await make_webhook(
        is_active=False, consecutive_failures=20, disabled_reason="Disabled after 20 failed ..."
    )
    webhook_id = to_global_id("Webhook", webhook.id)

    result = payload(
        await graphql(
            UPDATE,
            {"input": {"id": webhook_id, "active": True, "events": ["POST_DELETED"]}},
            headers=admin.headers,
        )
    )

    assert result["errors"] == []
    assert result["webhook"] == {
        "id": webhook_id,
        "url": webhook.url,
        "events": ["POST_DELETED"],
        "active": True,
        "consecutiveFailures": 0,
        "disabledReason": None,
    }


async def test_deleting_a_webhook_deletes_its_delivery_log(
    graphql: GraphQLRunner, sign_in: SignIn, clock: Clock
) -> None:
    admin = await sign_in(Role.ADMIN)
    webhook = await make_webhook()
    await WebhookDelivery.create(
        uid="u-1",
        webhook=webhook,
        event="post.updated",
        event_id="e-1",
        body="{}",
        created_at=clock.now,
        next_attempt_at=clock.now,
    )
    webhook_id = to_global_id("Webhook", webhook.id)

    result = payload(await graphql(DELETE, {"input": {"id": webhook_id}}, headers=admin.headers))

    assert result == {"deletedId": webhook_id, "errors": []}
    assert await WebhookDelivery.all().count() == 0
    missing = payload(await graphql(DELETE, {"input": {"id": webhook_id}}, headers=admin.headers))
    assert missing["errors"][0]["code"] == "NOT_FOUND"


async def test_the_delivery_log_shows_every_attempt_in_a_bounded_number_of_queries(
    graphql: GraphQLRunner,
    sign_in: SignIn,
    clock: Clock,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    admin = await sign_in(Role.ADMIN)
    webhook = await make_webhook()
    receiver.statuses = [500, 500, 500, 200, 500, 500]
    for _ in range(3):
        post = await make_post()
        async with in_transaction():
            await enqueue_webhook_events("post.updated", post_ids=[post.id], now=clock.now)
    dispatcher = make_dispatcher()
    await dispatcher.run_once()  # three failures
    clock.advance(timedelta(seconds=10))
    await dispatcher.run_once()  # one success, two failures

    async with assert_max_queries(6):
        body = await graphql(
            DELIVERIES,
            {"webhookId": to_global_id("Webhook", webhook.id), "first": 10},
            headers=admin.headers,
        )

    nodes = [edge["node"] for edge in payload(body)["edges"]]
    assert len(nodes) == 3
    assert sorted(node["status"] for node in nodes) == ["DELIVERED", "PENDING", "PENDING"]
    for node in nodes:
        assert len(node["attemptLog"]) == node["attempts"] == 2
        assert node["attemptLog"][0]["statusCode"] == 500
        assert node["attemptLog"][0]["error"] == "The receiver answered HTTP 500."
        assert '"event":"post.updated"' in node["payload"]
    delivered = next(node for node in nodes if node["status"] == "DELIVERED")
    assert delivered["attemptLog"][1]["statusCode"] == 200
    assert delivered["attemptLog"][1]["error"] is None
    assert delivered["lastError"] is None


async def test_redeliver_sends_the_same_event_again_as_a_new_delivery(
    graphql: GraphQLRunner,
    sign_in: SignIn,
    clock: Clock,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    admin = await sign_in(Role.ADMIN)
    webhook = await make_webhook()
    original = await WebhookDelivery.create(
        uid="u-1",
        webhook=webhook,
        event="post.updated",
        event_id="e-1",
        body='{"id":"e-1","event":"post.updated"}',
        status=DeliveryStatus.FAILED,
        created_at=clock.now,
        next_attempt_at=clock.now,
    )
    original_id = to_global_id("WebhookDelivery", original.id)

    result = payload(
        await graphql(REDELIVER, {"input": {"deliveryId": original_id}}, headers=admin.headers)
    )

    assert result["errors"] == []
    assert result["delivery"]["eventId"] == "e-1"
    assert result["delivery"]["status"] == "PENDING"
    assert result["delivery"]["redeliveryOf"] == original_id
    clock.now = datetime.now(UTC)  # the redelivery is due from the real present on
    assert await make_dispatcher().run_once() == 1
    (request,) = receiver.requests
    assert request.content == b'{"id":"e-1","event":"post.updated"}'
    assert request.headers["x-cms-delivery"] != "u-1"
    assert receiver.verified == [True]


async def test_redeliver_refuses_a_disabled_webhook_and_unknown_deliveries(
    graphql: GraphQLRunner, sign_in: SignIn, clock: Clock
) -> None:
    admin = await sign_in(Role.ADMIN)
    webhook = await make_webhook(is_active=False)
    delivery = await WebhookDelivery.create(
        uid="u-1",
        webhook=webhook,
        event="post.updated",
        event_id="e-1",
        body="{}",
        created_at=clock.now,
        next_attempt_at=clock.now,
    )
    for delivery_id, code in (
        (to_global_id("WebhookDelivery", delivery.id), "CONFLICT"),
        (to_global_id("WebhookDelivery", delivery.id + 1), "NOT_FOUND"),
        (to_global_id("Post", delivery.id), "BAD_USER_INPUT"),
    ):
        result = payload(
            await graphql(REDELIVER, {"input": {"deliveryId": delivery_id}}, headers=admin.headers)
        )
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "deliveryId")]
