"""Webhooks through real processes: `cms serve` workers, a local receiver, a restart between."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.models import DeliveryStatus, Role, WebhookDelivery
from cms.settings import Settings
from cms.webhooks import verify
from tests.conftest import SignIn
from tests.liveservers import cms_worker, served
from tests.webhooks.conftest import SECRET

CREATE_WEBHOOK = """
mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id } errors { code field message } }
}
"""
CREATE_POST = """
mutation ($input: CreatePostInput!) {
  createPost(input: $input) { post { id } errors { code message } }
}
"""


async def test_a_change_committed_before_a_restart_is_delivered_by_the_next_worker(
    settings: Settings, sign_in: SignIn
) -> None:
    received: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()

    async def hook(request: Request) -> Response:
        await received.put((dict(request.headers), await request.body()))
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    admin = await sign_in(Role.ADMIN)
    env = {"CMS_DATABASE_URL": settings.database_url, "CMS_WEBHOOKS_ALLOW_PRIVATE": "true"}

    async with served(receiver, lifespan="off") as address:
        # A worker whose dispatcher never runs: it commits the change and its outbox row,
        # then goes away, as if it had crashed right after the commit.
        with cms_worker({**env, "CMS_WEBHOOKS_DISPATCH": "false"}) as first:
            async with httpx.AsyncClient(base_url=first, headers=admin.headers) as api:
                webhook = await api.post(
                    "/graphql",
                    json={
                        "query": CREATE_WEBHOOK,
                        "variables": {
                            "input": {
                                "url": f"http://{address}/hook",
                                "events": ["POST_PUBLISHED"],
                                "secret": SECRET,
                            }
                        },
                    },
                )
                assert webhook.json()["data"]["createWebhook"]["errors"] == []
                post = await api.post(
                    "/graphql",
                    json={
                        "query": CREATE_POST,
                        "variables": {"input": {"title": "Survivor", "status": "PUBLISHED"}},
                    },
                )
                assert post.json()["data"]["createPost"]["errors"] == []
        assert received.empty()
        pending = await WebhookDelivery.get()
        assert pending.status is DeliveryStatus.PENDING

        # The next worker's dispatcher finds the committed row and sends it.
        with cms_worker({**env, "CMS_WEBHOOKS_DISPATCH": "true"}):
            headers, body = await asyncio.wait_for(received.get(), 15)

    assert verify(SECRET, headers["x-cms-signature"], body, now=int(time.time()))
    assert headers["x-cms-event"] == "post.published"
    assert headers["x-cms-delivery"] == pending.uid
    assert json.loads(body)["data"]["post"]["title"] == "Survivor"
    delivered = await WebhookDelivery.get()
    assert delivered.status is DeliveryStatus.DELIVERED
    assert delivered.last_status_code == 204
