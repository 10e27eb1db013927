"""Managing webhooks (``webhooks.manage``, admins only): create, update, delete, redeliver.

Every URL is checked when it is saved (``cms.services.webhooks.urls``): a webhook that could
never be called is refused at once rather than failing in the delivery log. Secrets are write-only:
they are stored to sign payloads and never returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet

from cms.auth.viewer import Viewer
from cms.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, UnsafeURL
from cms.models import DeliveryStatus, Webhook, WebhookDelivery
from cms.permissions import Permission
from cms.services.validation import Problems
from cms.services.webhooks.events import WebhookEvent
from cms.services.webhooks.urls import Resolver, resolve_target, system_resolver

__all__ = [
    "MAX_SECRET_LENGTH",
    "MIN_SECRET_LENGTH",
    "UrlPolicy",
    "create_webhook",
    "delete_webhook",
    "deliveries_of",
    "list_webhooks",
    "redeliver",
    "update_webhook",
]

# Short secrets can be brute-forced from one signed payload; 256 is the column's size.
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256


@dataclass(frozen=True)
class UrlPolicy:
    """How webhook URLs are checked: ``CMS_WEBHOOKS_ALLOW_PRIVATE``, and the resolver."""

    allow_private: bool = False
    resolver: Resolver = system_resolver


async def create_webhook(
    viewer: Viewer,
    *,
    url: str,
    events: Sequence[WebhookEvent],
    secret: str,
    policy: UrlPolicy,
) -> Webhook:
    """A new, active webhook for ``events``, signed with ``secret``."""
    _require(viewer)
    problems = Problems()
    _check_events(problems, events)
    _check_secret(problems, secret)
    await _check_url(problems, url, policy)
    problems.raise_if_any()
    return await Webhook.create(
        url=url,
        events=_event_names(events),
        secret=secret,
        created_by_id=viewer.author_id,
    )


async def update_webhook(
    viewer: Viewer,
    *,
    webhook_id: int,
    policy: UrlPolicy,
    url: str | None = None,
    events: Sequence[WebhookEvent] | None = None,
    secret: str | None = None,
    active: bool | None = None,
) -> Webhook:
    """Change what is given (None leaves it). Enabling a webhook resets its failure count."""
    _require(viewer)
    webhook = await _find(webhook_id)
    problems = Problems()
    if events is not None:
        _check_events(problems, events)
    if secret is not None:
        _check_secret(problems, secret)
    if url is not None:
        await _check_url(problems, url, policy)
    problems.raise_if_any()
    if url is not None:
        webhook.url = url
    if events is not None:
        webhook.events = _event_names(events)
    if secret is not None:
        webhook.secret = secret
    if active is True and not webhook.is_active:
        webhook.is_active = True
        webhook.consecutive_failures = 0
        webhook.disabled_at = None
        webhook.disabled_reason = ""
    elif active is False and webhook.is_active:
        webhook.is_active = False
        webhook.disabled_at = datetime.now(UTC)
        webhook.disabled_reason = "Disabled by an admin."
    await webhook.save()
    return webhook


async def delete_webhook(viewer: Viewer, *, webhook_id: int) -> None:
    """Delete a webhook with its delivery log; deliveries not yet sent are dropped."""
    _require(viewer)
    webhook = await _find(webhook_id)
    await webhook.delete()


def list_webhooks(viewer: Viewer) -> QuerySet[Webhook]:
    _require(viewer)
    return Webhook.all()


async def deliveries_of(viewer: Viewer, *, webhook_id: int) -> QuerySet[WebhookDelivery]:
    """One webhook's deliveries (the delivery log); NOT_FOUND for an unknown webhook."""
    _require(viewer)
    await _find(webhook_id, field="webhookId")
    return WebhookDelivery.filter(webhook_id=webhook_id)


async def redeliver(
    viewer: Viewer, *, delivery_id: int, now: datetime | None = None
) -> WebhookDelivery:
    """Send a delivery's payload again, as a new delivery due now (same event id and body).

    The new delivery has a fresh ``X-CMS-Delivery`` id and a fresh retry window; receivers
    that deduplicate by the event id in the body still see it as the same event.
    """
    _require(viewer)
    original = await WebhookDelivery.get_or_none(id=delivery_id).select_related("webhook")
    if original is None:
        raise NotFound(f"There is no webhook delivery {delivery_id}.", field="deliveryId")
    if not original.webhook.is_active:
        raise Conflict(
            "The webhook is disabled: enable it (`updateWebhook` with `active: true`) first.",
            field="deliveryId",
        )
    now = now or datetime.now(UTC)
    return await WebhookDelivery.create(
        uid=str(uuid.uuid4()),
        webhook_id=original.webhook_id,
        event=original.event,
        event_id=original.event_id,
        body=original.body,
        status=DeliveryStatus.PENDING,
        created_at=now,
        next_attempt_at=now,
        redelivery_of_id=original.id,
    )


def _require(viewer: Viewer) -> None:
    if not viewer.is_authenticated:
        raise Unauthenticated("You must be signed in to do this.")
    if not viewer.can(Permission.WEBHOOKS_MANAGE):
        raise PermissionDenied(
            f"You do not have the `{Permission.WEBHOOKS_MANAGE.value}` permission."
        )


async def _find(webhook_id: int, *, field: str = "id") -> Webhook:
    webhook = await Webhook.get_or_none(id=webhook_id)
    if webhook is None:
        raise NotFound(f"There is no webhook {webhook_id}.", field=field)
    return webhook


def _check_events(problems: Problems, events: Sequence[WebhookEvent]) -> None:
    if not events:
        problems.invalid("events", "Subscribe to at least one event.")


def _check_secret(problems: Problems, secret: str) -> None:
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        problems.invalid(
            "secret",
            f"The secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters long.",
        )
    elif not secret.isprintable() or secret != secret.strip():
        problems.invalid("secret", "The secret must be printable, without surrounding spaces.")


async def _check_url(problems: Problems, url: str, policy: UrlPolicy) -> None:
    try:
        await resolve_target(url, allow_private=policy.allow_private, resolver=policy.resolver)
    except UnsafeURL as exc:
        problems.add(exc)


def _event_names(events: Sequence[WebhookEvent]) -> list[str]:
    # In the enum's order, without repeats, so that equal subscriptions are stored alike.
    chosen = set(events)
    return [event.value for event in WebhookEvent if event in chosen]
