"""Small builders for rows the tests need, with sensible defaults for every field."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from cms.models import Author, Post, PostStatus, PostTag, Section, Tag
from cms.rendering.markdown import assign_anchors
from cms.rendering.workers import render_bodies

_sequence = itertools.count(1)
BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def make_author(**fields: Any) -> Author:
    n = next(_sequence)
    defaults = {"name": f"Author {n}", "slug": f"author-{n}", "email": f"author{n}@example.org"}
    return await Author.create(**{**defaults, **fields})


async def make_tag(name: str, **fields: Any) -> Tag:
    return await Tag.create(name=name, slug=fields.pop("slug", name.lower()), **fields)


async def make_post(
    *,
    author: Author | None = None,
    tags: tuple[Tag, ...] = (),
    sections: tuple[tuple[str | None, str], ...] = ((None, "Intro text."),),
    published_at: datetime | None = BASE_TIME,
    status: PostStatus = PostStatus.PUBLISHED,
    **fields: Any,
) -> Post:
    n = next(_sequence)
    author = author or await make_author()
    post = await Post.create(
        title=fields.pop("title", f"Post {n}"),
        slug=fields.pop("slug", f"post-{n}"),
        author=author,
        status=status,
        published_at=published_at,
        **fields,
    )
    anchors = assign_anchors(heading for heading, _ in sections)
    # Rendered as every write path renders, so that reads find html like the app's own rows.
    rendered = await render_bodies([body for _, body in sections], fields=["body"] * len(sections))
    await Section.bulk_create(
        Section(
            post=post,
            position=i,
            heading=heading,
            anchor=anchor,
            body=body,
            html=html,
            plain_text=plain_text,
        )
        for i, ((heading, body), anchor, (html, plain_text)) in enumerate(
            zip(sections, anchors, rendered, strict=True)
        )
    )
    await PostTag.bulk_create(PostTag(post=post, tag=tag) for tag in tags)
    return post


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
