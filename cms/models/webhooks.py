"""Webhooks: endpoints that hear about content changes, and the outbox of deliveries to them.

``webhook_delivery`` is both the durable outbox and the delivery log. Writers insert its rows
inside their own transaction (``cms.services.webhooks.outbox``), so a change and the news of it
commit or roll back together; the dispatcher (``cms.webhooks.dispatcher``) then claims and sends
them, and records every attempt in ``webhook_attempt``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from cms.models.accounts import Author


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt, due at next_attempt_at
    SENDING = "SENDING"  # claimed by one dispatcher until lease_until
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # given up: the retry window closed without a 2xx


class Webhook(Model):
    """An endpoint that receives signed POSTs for the events it subscribed to."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2048)
    # Webhook event names ("post.published", ...), see cms.services.webhooks.events.
    events: fields.Field[list[str]] = fields.JSONField(default=list)
    # Kept as given: it is the HMAC key, needed in clear to sign. The API never returns it.
    secret = fields.CharField(max_length=256)
    is_active = fields.BooleanField(default=True)
    # Failed attempts in a row, across deliveries; reset by any success or by re-enabling.
    consecutive_failures = fields.IntField(default=0)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.TextField(default="")
    created_by: fields.ForeignKeyNullableRelation[Author] = fields.ForeignKeyField(
        "models.Author", related_name="webhooks", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook"
        ordering = ("id",)


class WebhookDelivery(Model):
    """One event for one webhook: an outbox row until it is delivered or given up."""

    id = fields.IntField(primary_key=True)
    # Sent as X-CMS-Delivery; receivers use it to drop a delivery they have already handled.
    uid = fields.CharField(max_length=36, unique=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: int
    event = fields.CharField(max_length=32)
    # The same for every delivery of one change (redeliveries included), and in the body.
    event_id = fields.CharField(max_length=36)
    # The exact bytes that are signed and sent, fixed when the change committed.
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    next_attempt_at = fields.DatetimeField()
    # While SENDING: the claim expires then, and another dispatcher may take the row over.
    lease_until = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    # The delivery this one repeats (``redeliver``); null for the first one.
    redelivery_of_id = fields.IntField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (
            # The dispatcher's scan: due rows by status, oldest due first.
            Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due_idx"),
            # The delivery log: one webhook's deliveries, newest first.
            Index(fields=("webhook_id", "id"), name="webhook_delivery_log_idx"),
        )


class WebhookAttempt(Model):
    """One try at sending a delivery: what the receiver answered, or why it could not."""

    id = fields.IntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    delivery_id: int
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField()
    error = fields.TextField(default="")

    class Meta:
        table = "webhook_attempt"
        ordering = ("id",)
