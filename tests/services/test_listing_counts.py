"""The listing columns and counters (migration 0009) always equal a recomputation from scratch.

Every kind of write runs in a random order (several seeds), through the services where one
exists and as raw model or SQL writes otherwise; after each, ``post.listed``, the copies on
``post_tag`` and ``post_listing_count`` are compared with values recomputed in Python from the
posts' own columns.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from tortoise import connections

from cms.content.generate import generate_content
from cms.models import Post, PostStatus, PostTag, Role, Tag
from cms.services import authoring, tags
from cms.services.authoring import PostChanges
from cms.services.scheduler import Scheduler
from tests.factories import BASE_TIME, make_post, make_tag
from tests.services.helpers import FakeClock, viewer_for

LIVE = {PostStatus.PUBLISHED.value, PostStatus.SCHEDULED.value}


async def _rows(sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(sql)
    return rows


async def assert_consistent() -> None:
    posts = await _rows("SELECT id, status, deleted_at, published_at, author_id, listed FROM post")
    listed = {
        row["id"]: row["status"] in LIVE
        and row["deleted_at"] is None
        and row["published_at"] is not None
        for row in posts
    }
    assert {row["id"]: bool(row["listed"]) for row in posts} == listed
    published = {row["id"]: row["published_at"] for row in posts}
    links = await _rows("SELECT post_id, tag_id, listed, published_at FROM post_tag")
    assert [(bool(link["listed"]), link["published_at"]) for link in links] == [
        (listed[link["post_id"]], published[link["post_id"]]) for link in links
    ]
    expected: Counter[tuple[str, int]] = Counter()
    for row in posts:
        if listed[row["id"]]:
            expected["site", 0] += 1
            expected["author", row["author_id"]] += 1
    for link in links:
        if listed[link["post_id"]]:
            expected["tag", link["tag_id"]] += 1
    stored = await _rows("SELECT scope, parent_id, listed FROM post_listing_count")
    # Rows that dropped to zero may stay behind; they mean the same as no row.
    found = {(r["scope"], r["parent_id"]): r["listed"] for r in stored if r["listed"] != 0}
    assert found == dict(expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_kind_of_write_keeps_the_counters_exact(seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock(BASE_TIME)
    editor, _ = await viewer_for(Role.EDITOR)
    admin, _ = await viewer_for(Role.ADMIN)
    tag_slugs = [(await make_tag(f"T{seed}x{i}")).slug for i in range(4)]

    async def post_ids(**filters: Any) -> list[int]:
        return sorted(await Post.filter(**filters).values_list("id", flat=True))

    async def pick(**filters: Any) -> Post | None:
        ids = await post_ids(**filters)
        return await Post.get(id=rng.choice(ids)) if ids else None

    async def create() -> None:
        status = rng.choice([PostStatus.DRAFT, PostStatus.PUBLISHED])
        chosen = rng.sample(tag_slugs, rng.randint(0, min(3, len(tag_slugs))))
        await authoring.create_post(
            editor, title=f"P {rng.random()}", tags=chosen, status=status, clock=clock
        )

    async def publish() -> None:
        if post := await pick(deleted_at__isnull=True):
            at = clock.now + timedelta(days=rng.choice([-2, 3])) if rng.random() < 0.5 else None
            await authoring.publish_post(
                editor, post_id=post.id, expected_version=post.version, at=at, clock=clock
            )

    async def unpublish() -> None:
        if post := await pick(deleted_at__isnull=True, status__in=list(LIVE)):
            await authoring.unpublish_post(
                editor, post_id=post.id, expected_version=post.version, clock=clock
            )

    async def retag() -> None:
        if (post := await pick(deleted_at__isnull=True)) and tag_slugs:
            chosen = rng.sample(tag_slugs, rng.randint(0, min(3, len(tag_slugs))))
            await authoring.update_post(
                editor,
                post_id=post.id,
                expected_version=post.version,
                changes=PostChanges(tags=chosen, title=f"R {rng.random()}"),
                clock=clock,
            )

    async def archive() -> None:
        # No mutation archives: a raw bulk write must keep the counters right too.
        if post := await pick(deleted_at__isnull=True):
            await Post.filter(id=post.id).update(status=PostStatus.ARCHIVED)

    async def stale_save() -> None:
        # save() writes every column from a stale instance: nothing it writes is a counter.
        if post := await pick():
            stale = await Post.get(id=post.id)
            await Post.filter(id=post.id).update(status=PostStatus.DRAFT)
            stale.title = "stale"
            await stale.save()

    async def trash() -> None:
        if post := await pick(deleted_at__isnull=True):
            await authoring.delete_post(
                editor, post_id=post.id, expected_version=post.version, clock=clock
            )

    async def restore() -> None:
        if post := await pick(deleted_at__isnull=False):
            await authoring.restore_post(
                editor, post_id=post.id, expected_version=post.version, clock=clock
            )

    async def purge() -> None:
        clock.advance(days=40)
        await authoring.purge_trash(older_than=timedelta(days=30), clock=clock)

    async def schedule_passes() -> None:
        clock.advance(days=4)
        await Scheduler(interval=1, clock=clock).run_once()

    async def delete_tag() -> None:
        if len(tag_slugs) > 1:
            slug = tag_slugs.pop(rng.randrange(len(tag_slugs)))
            await tags.delete_tag(admin, tag_id=(await Tag.get(slug=slug)).id)

    async def merge_tags() -> None:
        if len(tag_slugs) > 1:
            source, target = rng.sample(tag_slugs, 2)
            tag_slugs.remove(source)
            source_id = (await Tag.get(slug=source)).id
            target_id = (await Tag.get(slug=target)).id
            await tags.merge_tags(admin, source_id=source_id, target_id=target_id)

    async def raw_links() -> None:
        if (post := await pick()) and tag_slugs:
            tag = await Tag.get(slug=rng.choice(tag_slugs))
            await PostTag.get_or_create(post_id=post.id, tag_id=tag.id)
            if rng.random() < 0.5:
                await PostTag.filter(post_id=post.id).delete()

    async def raw_delete() -> None:
        if post := await pick():
            await Post.filter(id=post.id).delete()

    actions: list[Callable[[], Awaitable[None]]] = [
        create,
        create,
        create,
        publish,
        unpublish,
        retag,
        archive,
        stale_save,
        trash,
        restore,
        purge,
        schedule_passes,
        delete_tag,
        merge_tags,
        raw_links,
        raw_delete,
    ]
    for _ in range(60):
        await rng.choice(actions)()
        await assert_consistent()


async def test_generated_content_is_counted() -> None:
    await generate_content(posts=80, tags=5, authors=3, sections=1, seed=4)
    await assert_consistent()
    site = await _rows("SELECT listed FROM post_listing_count WHERE scope = 'site'")
    # Every 40th post is a draft: 78 of 80 are listed (scheduled ones included).
    assert site == [{"listed": 78}]


async def test_links_to_a_post_copy_its_dates_and_move_with_it() -> None:
    tag = await make_tag("Moves")
    post = await make_post(tags=(tag,))
    await Post.filter(id=post.id).update(published_at=BASE_TIME + timedelta(hours=1))
    await assert_consistent()
    other = await make_post(status=PostStatus.DRAFT, published_at=None)
    await PostTag.filter(post_id=post.id).update(post_id=other.id)
    await assert_consistent()
