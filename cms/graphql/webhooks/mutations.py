"""Mutations on webhooks (``webhooks.manage``): create, update, delete, redeliver.

Resolvers are alike in shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import EXPECTED, Payload, UserError, failures_as
from cms.graphql.permissions import require
from cms.graphql.webhooks.loaders import AttemptsByDeliveryIdLoader
from cms.graphql.webhooks.types import Webhook, WebhookDelivery, WebhookEvent
from cms.permissions import Permission
from cms.services.webhooks import manage
from cms.services.webhooks.manage import UrlPolicy

MANAGE = require(Permission.WEBHOOKS_MANAGE)


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(
        description="An http(s) URL on a public address (private ones need "
        "CMS_WEBHOOKS_ALLOW_PRIVATE)."
    )
    events: list[WebhookEvent]  # type: ignore[valid-type]
    secret: str = strawberry.field(
        description="16 to 256 characters; the HMAC-SHA256 key of `X-CMS-Signature`. "
        "Never returned."
    )


@strawberry.input(description="Omitted or null fields are left as they are.")
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = None
    events: list[WebhookEvent] | None = None  # type: ignore[valid-type]
    secret: str | None = None
    active: bool | None = strawberry.field(
        default=None, description="True re-enables a disabled webhook and resets its failures."
    )


@strawberry.input
class DeleteWebhookInput:
    id: strawberry.ID


@strawberry.input
class RedeliverInput:
    delivery_id: strawberry.ID


@strawberry.type
class WebhookPayload(Payload):
    webhook: Webhook | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class UpdateWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class DeleteWebhookPayload(Payload):
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RedeliverPayload(Payload):
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The new delivery, due now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _policy(info: Info) -> UrlPolicy:
    return UrlPolicy(allow_private=info.context.settings.webhooks_allow_private)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(permission_classes=[MANAGE], description="Create an active webhook.")
    @failures_as(CreateWebhookPayload, EXPECTED)
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        webhook = await manage.create_webhook(
            info.context.viewer,
            url=input.url,
            events=input.events,
            secret=input.secret,
            policy=_policy(info),
        )
        return CreateWebhookPayload(webhook=Webhook.from_model(webhook))

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Change a webhook's URL, events or secret; enable or disable it.",
    )
    @failures_as(UpdateWebhookPayload, EXPECTED)
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> UpdateWebhookPayload:
        webhook = await manage.update_webhook(
            info.context.viewer,
            webhook_id=pk_of(input.id, "Webhook"),
            policy=_policy(info),
            url=input.url,
            events=input.events,
            secret=input.secret,
            active=input.active,
        )
        return UpdateWebhookPayload(webhook=Webhook.from_model(webhook))

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Delete a webhook and its delivery log; unsent deliveries are dropped.",
    )
    @failures_as(DeleteWebhookPayload, EXPECTED)
    async def delete_webhook(self, info: Info, input: DeleteWebhookInput) -> DeleteWebhookPayload:
        await manage.delete_webhook(info.context.viewer, webhook_id=pk_of(input.id, "Webhook"))
        return DeleteWebhookPayload(deleted_id=input.id)

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Send a delivery's payload again, as a new delivery due now.",
    )
    @failures_as(RedeliverPayload, EXPECTED)
    async def redeliver(self, info: Info, input: RedeliverInput) -> RedeliverPayload:
        delivery = await manage.redeliver(
            info.context.viewer,
            delivery_id=pk_of(input.delivery_id, "WebhookDelivery", field="deliveryId"),
        )
        return RedeliverPayload(
            delivery=WebhookDelivery.from_model(delivery, AttemptsByDeliveryIdLoader())
        )
