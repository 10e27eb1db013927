"""The transactional outbox: webhook deliveries written in the same transaction as the change.

A writer calls ``enqueue_webhook_events`` inside its transaction, next to the rows it changes::

    async with in_transaction():
        ...  # the change itself
        await enqueue_webhook_events("post.updated", post_ids=[post.id])

Both commit or neither does. Had the rows been written by an event listener after the commit
instead, a crash (or a deploy) between the commit and the listener would lose the event for
good; here the dispatcher finds the committed rows whenever it next runs, on any worker.

Each call writes one ``webhook_delivery`` row per (object, subscribed active webhook). The body
is built now, from the transaction's own view of the rows, so that it describes this change
even if later ones overtake its delivery. With no webhook subscribed, a call costs one query.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from cms.models import DeliveryStatus, Post, PostStatus, PostTag, Tag, Webhook, WebhookDelivery
from cms.services.webhooks.events import (
    TAG_KINDS,
    WebhookEvent,
    event_for_post_change,
    possible_events,
)

__all__ = ["build_body", "enqueue_webhook_events", "global_id"]

_PUBLISHED = (PostStatus.PUBLISHED, PostStatus.SCHEDULED)


async def enqueue_webhook_events(
    kind: str,
    *,
    post_ids: Iterable[int] = (),
    tag_ids: Iterable[int] = (),
    connection: BaseDBAsyncClient | None = None,
    now: datetime | None = None,
) -> int:
    """Write the deliveries a change of ``kind`` owes to subscribed webhooks; returns how many.

    Call it inside the writer's transaction (``connection`` is that transaction; by default,
    the one Tortoise has open in this task). Post kinds use ``post_ids``; tag kinds use
    ``tag_ids`` (for ``tag.deleted``, call it before deleting the tag, or the payload can only
    say that the tag is gone).
    """
    wanted = {event.value for event in possible_events(kind)}
    webhooks = [
        webhook
        for webhook in await Webhook.filter(is_active=True).using_db(connection)
        if wanted.intersection(webhook.events)
    ]
    if not webhooks:
        # The common case (no webhook cares): one query, nothing else in the transaction.
        return 0
    now = now or datetime.now(UTC)
    if kind in TAG_KINDS:
        events = await _tag_events(kind, list(dict.fromkeys(tag_ids)), connection)
    else:
        events = await _post_events(kind, sorted(set(post_ids)), connection)
    rows: list[WebhookDelivery] = []
    for event, data in events:
        # One event id per change, shared by every webhook's delivery of it.
        event_id = str(uuid.uuid4())
        body = build_body(event_id=event_id, event=event, data=data, now=now)
        rows.extend(
            WebhookDelivery(
                uid=str(uuid.uuid4()),
                webhook_id=webhook.id,
                event=event.value,
                event_id=event_id,
                body=body,
                status=DeliveryStatus.PENDING,
                created_at=now,
                next_attempt_at=now,
            )
            for webhook in webhooks
            if event.value in webhook.events
        )
    if rows:
        await WebhookDelivery.bulk_create(rows, using_db=connection)
    return len(rows)


def build_body(*, event_id: str, event: WebhookEvent, data: dict[str, Any], now: datetime) -> str:
    """The JSON document a delivery sends (see the README's "Webhooks" section)."""
    document = {"id": event_id, "event": event.value, "createdAt": _iso(now), "data": data}
    return orjson.dumps(document).decode()


async def _post_events(
    kind: str, post_ids: list[int], connection: BaseDBAsyncClient | None
) -> list[tuple[WebhookEvent, dict[str, Any]]]:
    if not post_ids:
        return []
    posts = await Post.filter(id__in=post_ids).using_db(connection)
    tags: dict[int, list[str]] = {}
    links = (
        PostTag.filter(post_id__in=post_ids)
        .using_db(connection)
        .order_by("tag__slug")
        .values_list("post_id", "tag__slug")
    )
    for post_id, slug in await links:
        tags.setdefault(post_id, []).append(slug)
    events = []
    for post in sorted(posts, key=lambda p: p.id):
        event = event_for_post_change(kind, is_published=post.status in _PUBLISHED)
        if event is not None:
            data = {"change": kind, "post": _post_data(post, tags.get(post.id, []))}
            events.append((event, data))
    return events


async def _tag_events(
    kind: str, tag_ids: list[int], connection: BaseDBAsyncClient | None
) -> list[tuple[WebhookEvent, dict[str, Any]]]:
    found = {tag.id: tag for tag in await Tag.filter(id__in=tag_ids).using_db(connection)}
    events = []
    for tag_id in tag_ids:
        tag = found.get(tag_id)
        described: dict[str, Any] = (
            {"id": global_id("Tag", tag_id), "pk": tag_id, "slug": tag.slug, "name": tag.name}
            if tag is not None
            else {"id": global_id("Tag", tag_id), "pk": tag_id, "deleted": True}
        )
        events.append((WebhookEvent.TAG_CHANGED, {"change": kind, "tag": described}))
    return events


def _post_data(post: Post, tags: list[str]) -> dict[str, Any]:
    return {
        "id": global_id("Post", post.id),
        "pk": post.id,
        "slug": post.slug,
        "title": post.title,
        "status": post.status.value,
        "publishedAt": _iso(post.published_at),
        "updatedAt": _iso(post.updated_at),
        "deletedAt": _iso(post.deleted_at),
        "version": post.version,
        "author": {"id": global_id("Author", post.author_id), "pk": post.author_id},
        "tags": tags,
    }


def global_id(type_name: str, pk: int) -> str:
    """The API's global id of a row (the same as ``cms.graphql.node.to_global_id``)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
