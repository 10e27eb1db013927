"""Mutations on webhooks (``webhooks.manage``): create, update, delete, redeliver."""

from __future__ import annotations

from typing import Self

import strawberry

from cms.errors import CMSError
from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import UserError, payload_errors
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
class WebhookPayload:
    webhook: Webhook | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failure(cls, exc: CMSError) -> Self:
        return cls(errors=payload_errors(exc))


@strawberry.type
class CreateWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class UpdateWebhookPayload(WebhookPayload):
    pass


@strawberry.type
class DeleteWebhookPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RedeliverPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The new delivery, due now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _policy(info: Info) -> UrlPolicy:
    return UrlPolicy(allow_private=info.context.settings.webhooks_allow_private)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(permission_classes=[MANAGE], description="Create an active webhook.")
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        try:
            webhook = await manage.create_webhook(
                info.context.viewer,
                url=input.url,
                events=input.events,
                secret=input.secret,
                policy=_policy(info),
            )
        except CMSError as exc:
            return CreateWebhookPayload.failure(exc)
        return CreateWebhookPayload(webhook=Webhook.from_model(webhook))

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Change a webhook's URL, events or secret; enable or disable it.",
    )
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> UpdateWebhookPayload:
        try:
            webhook = await manage.update_webhook(
                info.context.viewer,
                webhook_id=pk_of(input.id, "Webhook"),
                policy=_policy(info),
                url=input.url,
                events=input.events,
                secret=input.secret,
                active=input.active,
            )
        except CMSError as exc:
            return UpdateWebhookPayload.failure(exc)
        return UpdateWebhookPayload(webhook=Webhook.from_model(webhook))

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Delete a webhook and its delivery log; unsent deliveries are dropped.",
    )
    async def delete_webhook(self, info: Info, input: DeleteWebhookInput) -> DeleteWebhookPayload:
        try:
            await manage.delete_webhook(info.context.viewer, webhook_id=pk_of(input.id, "Webhook"))
        except CMSError as exc:
            return DeleteWebhookPayload(errors=payload_errors(exc))
        return DeleteWebhookPayload(deleted_id=input.id)

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Send a delivery's payload again, as a new delivery due now.",
    )
    async def redeliver(self, info: Info, input: RedeliverInput) -> RedeliverPayload:
        try:
            delivery = await manage.redeliver(
                info.context.viewer,
                delivery_id=pk_of(input.delivery_id, "WebhookDelivery", field="deliveryId"),
            )
        except CMSError as exc:
            return RedeliverPayload(errors=payload_errors(exc))
        return RedeliverPayload(
            delivery=WebhookDelivery.from_model(delivery, AttemptsByDeliveryIdLoader())
        )
