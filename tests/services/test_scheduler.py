"""The background task records due scheduled posts as published, on an injected clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cms.errors import VersionConflict
from cms.models import Post, PostStatus, Revision, Role
from cms.services import authoring
from cms.services.events import ContentChanged, events
from cms.services.posts import get_post
from cms.services.scheduler import Scheduler
from cms.services.visibility import Visibility
from tests.factories import make_post, make_tag
from tests.services.helpers import FakeClock, viewer_for


async def schedule_in(minutes: int, clock: FakeClock) -> Post:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(
        author=author, tags=(await make_tag("News"),), status=PostStatus.DRAFT, published_at=None
    )
    return await authoring.publish_post(
        viewer,
        post_id=post.id,
        expected_version=1,
        at=clock.now + timedelta(minutes=minutes),
        clock=clock,
    )


async def test_a_scheduled_post_is_published_once_its_time_has_come() -> None:
    clock = FakeClock()
    post = await schedule_in(10, clock)
    scheduler = Scheduler(interval=60, clock=clock)
    heard: list[ContentChanged] = []

    async def listen(event: ContentChanged) -> None:
        heard.append(event)

    unsubscribe = events.subscribe(listen)
    try:
        assert await scheduler.run_once() == []
        assert await get_post(Visibility.anonymous(clock.now), post_id=post.id) is None
        clock.advance(minutes=10)
        # Visible the moment its time passes, before the task has run.
        assert await get_post(Visibility.anonymous(clock.now), post_id=post.id) is not None
        assert await scheduler.run_once() == [post.id]
    finally:
        unsubscribe()

    stored = await Post.get(id=post.id)
    assert (stored.status, stored.version, stored.updated_at) == (
        PostStatus.PUBLISHED,
        3,
        clock.now,
    )
    revision = await Revision.get(post_id=post.id, version=3)
    assert (revision.mutation, revision.editor_id) == ("scheduledPublish", None)
    [event] = heard
    assert (event.kind, event.post_ids, event.author_ids) == (
        "post.published",
        frozenset({post.id}),
        frozenset({post.author_id}),
    )
    assert len(event.tag_ids) == 1
    assert await scheduler.run_once() == []


async def test_an_editor_holding_the_old_version_conflicts_with_the_flip() -> None:
    clock = FakeClock()
    post = await schedule_in(1, clock)
    clock.advance(minutes=2)
    await Scheduler(interval=60, clock=clock).run_once()
    viewer, _ = await viewer_for(Role.EDITOR)
    with pytest.raises(VersionConflict) as conflict:
        await authoring.unpublish_post(viewer, post_id=post.id, expected_version=2)
    assert conflict.value.current_version == 3


async def test_trashed_scheduled_posts_are_left_alone() -> None:
    clock = FakeClock()
    post = await schedule_in(1, clock)
    await Post.filter(id=post.id).update(deleted_at=clock.now)
    clock.advance(minutes=2)
    assert await Scheduler(interval=60, clock=clock).run_once() == []


async def test_the_task_runs_in_the_background_until_stopped() -> None:
    clock = FakeClock()
    post = await schedule_in(1, clock)
    clock.advance(minutes=2)
    scheduler = Scheduler(interval=0.01, clock=clock)
    async with scheduler.running():
        for _ in range(200):
            if (await Post.get(id=post.id)).status is PostStatus.PUBLISHED:
                break
            await asyncio.sleep(0.01)
    assert (await Post.get(id=post.id)).status is PostStatus.PUBLISHED
