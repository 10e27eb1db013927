"""``cms.services.post_lists`` answers exactly as the general statements do.

The general statements of ``cms.services.post_pages`` serve readers who may see drafts. A
preview token for a post that does not exist sends an anonymous reader down that path while
leaving what they see unchanged, so both paths can be compared on the same data: every page
(walked forwards and backwards through cursors), its page info, and every count.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from cms.models import Post, PostStatus
from cms.services import post_lists
from cms.services.pagination import CursorValue, PageSpec, decode_cursor
from cms.services.post_pages import (
    RowPage,
    count_all_posts,
    count_posts,
    fetch_post_page,
    fetch_post_pages,
)
from cms.services.posts import PostCriteria, PostOrdering, sort_key_for
from cms.services.visibility import Visibility
from tests.factories import BASE_TIME, make_author, make_post, make_tag

NOW = BASE_TIME + timedelta(days=20)
FAST = Visibility.anonymous(NOW)
GENERAL = Visibility(now=NOW, preview_post_ids=frozenset({10**9}))


@pytest.fixture
async def library() -> tuple[list[int], list[int]]:
    rng = random.Random(5)
    authors = [await make_author() for _ in range(3)]
    tags = [await make_tag(f"Agree {n}") for n in range(4)]
    statuses = [*[PostStatus.PUBLISHED] * 6, PostStatus.SCHEDULED, PostStatus.DRAFT]
    for n in range(45):
        post = await make_post(
            author=rng.choice(authors),
            tags=tuple(rng.sample(tags, rng.randint(0, 3))),
            status=rng.choice([*statuses, PostStatus.ARCHIVED]),
            # Ties on purpose: several posts share each instant and each title.
            published_at=BASE_TIME + timedelta(days=rng.randint(0, 30)),
            title=f"Title {rng.randint(0, 15)}",
        )
        if n % 11 == 0:
            await Post.filter(id=post.id).update(deleted_at=BASE_TIME)
    return [a.id for a in authors], [t.id for t in tags]


def summary(page: RowPage) -> tuple[Any, ...]:
    return (
        [row["id"] for row in page.rows],
        page.cursors,
        page.has_next_page,
        page.has_previous_page,
    )


async def read(
    visibility: Visibility,
    ordering: PostOrdering,
    spec: PageSpec,
    parent: Any,
    ids: list[int],
    criteria: PostCriteria,
) -> dict[Any, tuple[Any, ...]]:
    sort_key = sort_key_for(ordering, visibility)
    if parent is None:
        return {None: summary(await fetch_post_page(visibility, criteria, sort_key, spec))}
    pages = await fetch_post_pages(
        visibility, criteria, sort_key, spec, parent=parent, parent_ids=ids
    )
    return {key: summary(page) for key, page in pages.items()}


def cursor(encoded: str, ordering: PostOrdering) -> tuple[CursorValue, ...]:
    return tuple(decode_cursor(encoded, ordering.value, "after"))


CRITERIA = [
    PostCriteria(),
    PostCriteria(published_after=BASE_TIME + timedelta(days=5)),
    PostCriteria(published_before=BASE_TIME + timedelta(days=25)),
]


@pytest.mark.parametrize("criteria", CRITERIA)
@pytest.mark.parametrize("ordering", list(PostOrdering))
@pytest.mark.parametrize("parent", [None, "author", "tag"])
async def test_pages_walked_both_ways_are_the_same(
    library: tuple[list[int], list[int]],
    parent: Any,
    ordering: PostOrdering,
    criteria: PostCriteria,
) -> None:
    assert post_lists.serves(FAST, criteria)
    assert not post_lists.serves(GENERAL, criteria)
    author_ids, tag_ids = library
    ids = author_ids if parent == "author" else tag_ids
    for backwards in (False, True):
        spec = PageSpec(size=4, backwards=backwards)
        for _ in range(12):
            fast = await read(FAST, ordering, spec, parent, ids, criteria)
            assert fast == await read(GENERAL, ordering, spec, parent, ids, criteria)
            # Walk on from the first parent's page (the site's, without a parent).
            key = None if parent is None else ids[0]
            cursors = fast[key][1]
            if not cursors:
                break
            if backwards:
                spec = PageSpec(size=4, before=cursor(cursors[0], ordering), backwards=True)
            else:
                spec = PageSpec(size=4, after=cursor(cursors[-1], ordering))


@pytest.mark.parametrize("criteria", CRITERIA)
async def test_counts_are_the_same(
    library: tuple[list[int], list[int]], criteria: PostCriteria
) -> None:
    author_ids, tag_ids = library
    assert await count_all_posts(FAST, criteria) == await count_all_posts(GENERAL, criteria)
    for parent, ids in (("author", author_ids), ("tag", tag_ids)):
        fast = await count_posts(FAST, criteria, parent=parent, parent_ids=ids)  # type: ignore[arg-type]
        general = await count_posts(GENERAL, criteria, parent=parent, parent_ids=ids)  # type: ignore[arg-type]
        assert fast == general
        assert sum(fast.values()) > 0
