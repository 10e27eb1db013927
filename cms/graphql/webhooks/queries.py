"""Read fields for webhooks (``webhooks.manage``): the webhooks and their delivery logs."""

from __future__ import annotations

from functools import partial

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.permissions import require
from cms.graphql.webhooks.loaders import AttemptsByDeliveryIdLoader
from cms.graphql.webhooks.types import Webhook, WebhookDelivery
from cms.permissions import Permission
from cms.services.pagination import SortKey
from cms.services.webhooks import manage

MANAGE = require(Permission.WEBHOOKS_MANAGE)
OLDEST_FIRST = SortKey((("id", False),))
NEWEST_FIRST = SortKey((("id", True),))


@strawberry.type
class WebhookQueries:
    @strawberry.field(permission_classes=[MANAGE], description="Every webhook, oldest first.")
    async def webhooks(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Webhook]:
        return await build_connection(
            manage.list_webhooks(info.context.viewer),
            sort_key=OLDEST_FIRST,
            settings=info.context.settings,
            convert=Webhook.from_model,
            first=first,
            after=after,
        )

    @strawberry.field(
        permission_classes=[MANAGE],
        description="A webhook's delivery log, newest first, with every attempt.",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        deliveries = await manage.deliveries_of(
            info.context.viewer, webhook_id=pk_of(webhook_id, "Webhook", field="webhookId")
        )
        return await build_connection(
            deliveries,
            sort_key=NEWEST_FIRST,
            settings=info.context.settings,
            convert=partial(WebhookDelivery.from_model, loader=AttemptsByDeliveryIdLoader()),
            first=first,
            after=after,
        )
