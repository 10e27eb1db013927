"""Reading a page of posts: for the root `posts` field, and for `Tag.posts` and `Author.posts`.

Under a parent the page comes from a loader, so that a list of tags (or authors) reads every
tag's page in one statement rather than one statement per tag. Each caller says which parent
it lists under; nothing here guesses it from the type of its root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cms.cache.tracking import POSTS_LIST, author_posts_key, record, record_posts, tag_posts_key
from cms.graphql.context import Info
from cms.graphql.loaders.posts import PostCountKey, PostPageKey
from cms.graphql.posts.inputs import PostFilter
from cms.services import posts as post_service
from cms.services.pagination import PageRequest, PageSpec
from cms.services.post_pages import (
    ParentKind,
    RowPage,
    count_all_posts,
    fetch_post_page,
)
from cms.services.posts import PostOrdering

PAGE_ARGUMENT_HELP = "Page size: default 20, at most 100; more is an error, never a silent cap."
AFTER_HELP = "Start after the item with this cursor."
BEFORE_HELP = "End before the item with this cursor."


@dataclass(frozen=True)
class PostRows:
    """One page of post rows, and how to count every row of the list if asked."""

    page: RowPage
    count_rows: Callable[[], Awaitable[int]]


async def read_posts(
    info: Info,
    parent: tuple[ParentKind, int] | None,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: PostFilter | None,
    order_by: PostOrdering,
) -> PostRows:
    """A page of visible posts: all of them, or only those of one tag or author (``parent``)."""
    context = info.context
    visibility = context.visibility
    sort_key = post_service.sort_key_for(order_by, visibility)
    request = PageRequest.from_args(
        first=first,
        after=after,
        last=last,
        before=before,
        default_size=context.settings.default_page_size,
        max_size=context.settings.max_page_size,
        sort_key=sort_key,
    )
    criteria = (filter or PostFilter()).to_criteria()
    count_rows: Callable[[], Awaitable[int]]
    if parent is None:
        record(POSTS_LIST)
        page = await fetch_post_page(visibility, criteria, sort_key, PageSpec.of(request))

        def count_rows() -> Awaitable[int]:
            return count_all_posts(visibility, criteria)

    else:
        kind, pk = parent
        record(tag_posts_key(pk) if kind == "tag" else author_posts_key(pk))
        page = await context.loaders.post_page_by_parent.load(
            PostPageKey(kind, pk, criteria, order_by, PageSpec.of(request))
        )
        count_key = PostCountKey(kind, pk, criteria)

        def count_rows() -> Awaitable[int]:
            return context.loaders.post_count_by_parent.load(count_key)

    record_posts(row["id"] for row in page.rows)
    return PostRows(page, count_rows)
