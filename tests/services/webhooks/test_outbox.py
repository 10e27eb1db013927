"""Writers queue webhook deliveries in their own transaction: which change raises which event."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from cms.models import PostStatus, Role, WebhookDelivery
from cms.services import authoring, tags
from cms.services.scheduler import Scheduler
from cms.services.webhooks.outbox import enqueue_webhook_events, global_id
from tests.factories import make_post
from tests.helpers import assert_max_queries
from tests.services.helpers import FakeClock, viewer_for
from tests.webhooks.conftest import make_webhook

ALL_EVENTS = ["post.published", "post.updated", "post.unpublished", "post.deleted", "tag.changed"]


async def queued() -> list[tuple[str, str, dict[str, Any]]]:
    """(event, change, data) of every queued delivery, oldest first."""
    rows = await WebhookDelivery.all().order_by("id")
    result = []
    for row in rows:
        data = json.loads(row.body)["data"]
        result.append((row.event, data["change"], data))
    return result


async def test_each_change_in_a_posts_life_queues_the_event_it_raises() -> None:
    await make_webhook(events=ALL_EVENTS)
    viewer, _ = await viewer_for(Role.EDITOR)

    post = await authoring.create_post(viewer, title="Draft")
    post = await authoring.publish_post(viewer, post_id=post.id, expected_version=post.version)
    post = await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        changes=authoring.PostChanges(title="Better"),
    )
    post = await authoring.unpublish_post(viewer, post_id=post.id, expected_version=post.version)
    post = await authoring.delete_post(viewer, post_id=post.id)
    post = await authoring.restore_post(viewer, post_id=post.id)

    assert [(event, change) for event, change, _ in await queued()] == [
        ("post.updated", "post.created"),
        ("post.published", "post.published"),
        ("post.updated", "post.updated"),
        ("post.unpublished", "post.unpublished"),
        ("post.deleted", "post.deleted"),
        ("post.updated", "post.restored"),
    ]
    *_, (_, _, data) = await queued()
    assert data["post"]["id"] == global_id("Post", post.id)
    assert data["post"]["title"] == "Better"
    assert data["post"]["version"] == post.version


async def test_a_post_created_published_raises_post_published() -> None:
    await make_webhook(events=["post.published"])
    viewer, _ = await viewer_for(Role.EDITOR)
    await authoring.create_post(viewer, title="Live at once", status=PostStatus.PUBLISHED)
    assert [(event, change) for event, change, _ in await queued()] == [
        ("post.published", "post.created")
    ]


async def test_the_scheduler_queues_the_publication_it_records() -> None:
    await make_webhook(events=["post.published", "post.updated"])
    clock = FakeClock()
    viewer, author = await viewer_for(Role.EDITOR)
    post = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    await authoring.publish_post(
        viewer,
        post_id=post.id,
        expected_version=1,
        at=clock.now + timedelta(minutes=5),
        clock=clock,
    )
    clock.advance(minutes=6)
    await Scheduler(interval=60, clock=clock).run_once()

    assert [(event, change) for event, change, _ in await queued()] == [
        ("post.updated", "post.scheduled"),
        ("post.published", "post.published"),
    ]


async def test_tag_changes_raise_tag_changed_and_name_the_tag_even_once_deleted() -> None:
    await make_webhook(events=["tag.changed"])
    viewer, _ = await viewer_for(Role.EDITOR)

    python = await tags.create_tag(viewer, name="Python")
    await tags.update_tag(viewer, tag_id=python.id, description="Snakes")
    py = await tags.create_tag(viewer, name="Py")
    await tags.merge_tags(viewer, source_id=py.id, target_id=python.id)
    await tags.delete_tag(viewer, tag_id=python.id)

    changes = [(event, change, data["tag"]["pk"]) for event, change, data in await queued()]
    assert changes == [
        ("tag.changed", "tag.created", python.id),
        ("tag.changed", "tag.updated", python.id),
        ("tag.changed", "tag.created", py.id),
        ("tag.changed", "tag.merged", py.id),
        ("tag.changed", "tag.merged", python.id),
        ("tag.changed", "tag.deleted", python.id),
    ]
    *_, (_, _, deleted) = await queued()
    assert deleted["tag"] == {
        "id": global_id("Tag", python.id),
        "pk": python.id,
        "slug": "python",
        "name": "Python",
    }


async def test_only_active_webhooks_subscribed_to_the_event_get_a_delivery() -> None:
    subscribed = await make_webhook(events=["post.updated"])
    await make_webhook(events=["post.deleted"])
    await make_webhook(events=["post.updated"], is_active=False)
    viewer, _ = await viewer_for(Role.EDITOR)

    await authoring.create_post(viewer, title="Draft")

    (delivery,) = await WebhookDelivery.all()
    assert delivery.webhook_id == subscribed.id


async def test_a_change_nobody_listens_to_costs_one_query() -> None:
    await make_webhook(events=["tag.changed"])
    post = await make_post()
    async with assert_max_queries(1):
        assert await enqueue_webhook_events("post.updated", post_ids=[post.id]) == 0


def test_payload_ids_are_the_apis_global_ids() -> None:
    from cms.graphql.node import to_global_id

    assert global_id("Post", 12) == to_global_id("Post", 12)
