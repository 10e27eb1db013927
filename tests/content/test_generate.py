"""Synthetic content: the counts asked for, reproducible rows, and a mix of statuses."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise import connections

from cms.content import generate
from cms.content.generate import generate_content
from cms.errors import Conflict, InvalidInput
from cms.models import Author, Post, PostStatus, PostTag, Section, Tag


async def clear_content() -> None:
    connection = connections.get("default")
    for table in ("section", "post_tag", "post", "tag", "author"):
        await connection.execute_script(f'DELETE FROM "{table}"')  # noqa: S608


async def snapshot() -> list[tuple[Any, ...]]:
    """Every generated value that should not depend on the run (ids and updated_at aside)."""
    authors = {a.id: a.slug for a in await Author.all()}
    tags = {t.id: t.slug for t in await Tag.all()}
    rows: list[tuple[Any, ...]] = []
    for post in await Post.all().order_by("slug"):
        sections = await Section.filter(post_id=post.id).order_by("position")
        links = [row["tag_id"] for row in await PostTag.filter(post_id=post.id).values("tag_id")]
        rows.append(
            (
                post.title,
                post.slug,
                post.excerpt,
                post.status,
                post.published_at,
                post.created_at,
                authors[post.author_id],
                sorted(tags[tag_id] for tag_id in links),
                [(s.heading, s.anchor, s.body) for s in sections],
            )
        )
    return rows


async def test_generate_writes_the_counts_asked_for() -> None:
    report = await generate_content(posts=60, tags=5, authors=3, sections=4, seed=7)

    assert (report.posts, report.tags, report.authors, report.sections) == (60, 5, 3, 240)
    assert await Post.all().count() == 60
    assert await Tag.all().count() == 5
    assert await Author.all().count() == 3
    assert await Section.all().count() == 240
    assert await PostTag.all().count() == report.post_tags


async def test_every_post_has_one_to_three_tags_and_exactly_its_sections() -> None:
    await generate_content(posts=60, tags=5, authors=3, sections=4, seed=7)

    tag_counts = Counter(await PostTag.all().values_list("post_id", flat=True))
    assert len(tag_counts) == 60
    assert set(tag_counts.values()) <= {1, 2, 3}
    for post_id in await Post.all().values_list("id", flat=True):
        sections = await Section.filter(post_id=post_id).order_by("position")
        assert [s.position for s in sections] == [0, 1, 2, 3]
        assert len({s.anchor for s in sections}) == 4
        assert all(s.heading is not None for s in sections[1:])


async def test_some_posts_repeat_a_heading() -> None:
    await generate_content(posts=100, tags=5, authors=3, sections=6, seed=3)
    assert await Section.filter(anchor__endswith="-2").exists()


async def test_the_same_seed_gives_the_same_rows() -> None:
    await generate_content(posts=50, tags=8, authors=4, sections=3, seed=11)
    first = await snapshot()
    await clear_content()

    await generate_content(posts=50, tags=8, authors=4, sections=3, seed=11)

    assert await snapshot() == first


async def test_another_seed_gives_other_posts() -> None:
    await generate_content(posts=20, tags=3, authors=2, sections=2, seed=1)
    first = await Post.all().order_by("id").values_list("title", flat=True)
    await clear_content()

    await generate_content(posts=20, tags=3, authors=2, sections=2, seed=2)

    assert await Post.all().order_by("id").values_list("title", flat=True) != first


async def test_most_posts_are_published_in_the_past_and_a_few_are_not_live() -> None:
    await generate_content(posts=80, tags=4, authors=2, sections=2, seed=5)
    now = datetime.now(UTC)

    statuses = Counter(await Post.all().values_list("status", flat=True))
    assert statuses == {PostStatus.PUBLISHED: 76, PostStatus.DRAFT: 2, PostStatus.SCHEDULED: 2}
    assert await Post.filter(status=PostStatus.PUBLISHED, published_at__gt=now).count() == 0
    assert await Post.filter(status=PostStatus.DRAFT, published_at__isnull=False).count() == 0
    assert await Post.filter(status=PostStatus.SCHEDULED, published_at__lte=now).count() == 0


async def test_names_and_slugs_stay_unique_beyond_the_word_lists() -> None:
    await generate_content(posts=5, tags=300, authors=700, sections=1, seed=9)

    tag_names = await Tag.all().values_list("name", flat=True)
    author_names = await Author.all().values_list("name", flat=True)
    assert len(set(tag_names)) == 300
    assert len(set(author_names)) == 700


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"posts": 0}, "posts", id="no-posts"),
        pytest.param({"tags": 0}, "tags", id="no-tags"),
        pytest.param({"authors": -1}, "authors", id="negative-authors"),
        pytest.param({"sections": 0}, "sections", id="no-sections"),
        pytest.param({"sections": 51}, "sections", id="too-many-sections"),
    ],
)
async def test_generate_refuses_counts_out_of_range(overrides: dict[str, int], field: str) -> None:
    counts = {"posts": 10, "tags": 2, "authors": 2, "sections": 2} | overrides
    with pytest.raises(InvalidInput) as caught:
        await generate_content(
            posts=counts["posts"],
            tags=counts["tags"],
            authors=counts["authors"],
            sections=counts["sections"],
            seed=1,
        )
    assert caught.value.field == field
    assert await Post.all().count() == 0


async def test_generate_refuses_a_database_that_has_content() -> None:
    await Author.create(name="Ada", slug="ada", email="ada@example.com")

    with pytest.raises(Conflict, match="empty database"):
        await generate_content(posts=10, tags=2, authors=2, sections=2, seed=1)

    assert await Author.all().count() == 1
    assert await Tag.all().count() == 0


async def test_posts_are_written_in_batches_with_progress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generate, "BATCH_SIZE", 2)
    calls: list[tuple[int, int]] = []

    await generate_content(
        posts=5, tags=2, authors=1, sections=2, seed=1, progress=lambda *call: calls.append(call)
    )

    assert calls == [(2, 5), (4, 5), (5, 5)]
    assert await Section.all().count() == 10
    assert len({row["post_id"] for row in await PostTag.all().values("post_id")}) == 5
