"""The Webhook, WebhookDelivery and WebhookAttempt types, and their enums."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.graphql.node import to_global_id
from cms.graphql.rows import from_row
from cms.graphql.webhooks.loaders import AttemptsByDeliveryIdLoader
from cms.models import DeliveryStatus as DeliveryStatusModel
from cms.models import Webhook as WebhookModel
from cms.models import WebhookAttempt as WebhookAttemptModel
from cms.models import WebhookDelivery as WebhookDeliveryModel
from cms.services.webhooks.events import WebhookEvent as WebhookEventModel

WebhookEvent = strawberry.enum(
    WebhookEventModel,
    description="What a webhook can hear about; sent as `X-CMS-Event` (`post.published`...).",
)
DeliveryStatus = strawberry.enum(
    DeliveryStatusModel,
    description="PENDING: waiting for its next attempt; SENDING: being sent; DELIVERED: the "
    "receiver answered 2xx; FAILED: given up after the retry window.",
)


@strawberry.type(description="An endpoint that receives signed POSTs about content changes.")
class Webhook:
    id: strawberry.ID
    url: str
    events: list[WebhookEvent]  # type: ignore[valid-type]
    active: bool = strawberry.field(
        description="False once disabled, by an admin or after repeated failed attempts."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed attempts in a row; reset by a success or by enabling the webhook."
    )
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, webhook: WebhookModel) -> Webhook:
        return from_row(
            cls,
            webhook,
            id=to_global_id("Webhook", webhook.id),
            events=[WebhookEventModel(event) for event in webhook.events],
            active=webhook.is_active,
            disabled_reason=webhook.disabled_reason or None,
        )


@strawberry.type(description="One try at sending a delivery.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when no answer came (refused, timeout)."
    )
    duration_ms: int
    error: str | None = strawberry.field(description="Why the attempt failed; null on success.")

    @classmethod
    def from_model(cls, attempt: WebhookAttemptModel) -> WebhookAttempt:
        return from_row(cls, attempt, error=attempt.error or None)


@strawberry.type(description="One event for one webhook, and how sending it went.")
class WebhookDelivery:
    pk: strawberry.Private[int]
    attempts_loader: strawberry.Private[AttemptsByDeliveryIdLoader]
    id: strawberry.ID = strawberry.field(description="Pass it to `redeliver`.")
    uid: str = strawberry.field(description="Sent as `X-CMS-Delivery`; new for a redelivery.")
    webhook_id: strawberry.ID
    event: WebhookEvent  # type: ignore[valid-type]
    event_id: str = strawberry.field(
        description="The `id` in the payload: the same for every delivery of one change."
    )
    status: DeliveryStatus  # type: ignore[valid-type]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null unless PENDING."
    )
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    payload: str = strawberry.field(description="The JSON body, exactly as signed and sent.")
    redelivery_of: strawberry.ID | None = strawberry.field(
        description="The delivery this one repeats (`redeliver`)."
    )

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempt_log(self) -> list[WebhookAttempt]:
        return [WebhookAttempt.from_model(a) for a in await self.attempts_loader.load(self.pk)]

    @classmethod
    def from_model(
        cls, delivery: WebhookDeliveryModel, loader: AttemptsByDeliveryIdLoader
    ) -> WebhookDelivery:
        pending = delivery.status is DeliveryStatusModel.PENDING
        return from_row(
            cls,
            delivery,
            pk=delivery.id,
            attempts_loader=loader,
            id=to_global_id("WebhookDelivery", delivery.id),
            webhook_id=to_global_id("Webhook", delivery.webhook_id),
            event=WebhookEventModel(delivery.event),
            next_attempt_at=delivery.next_attempt_at if pending else None,
            last_error=delivery.last_error or None,
            payload=delivery.body,
            redelivery_of=(
                to_global_id("WebhookDelivery", delivery.redelivery_of_id)
                if delivery.redelivery_of_id is not None
                else None
            ),
        )
