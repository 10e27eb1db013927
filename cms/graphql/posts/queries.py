"""Read fields for posts, including the one `posts` list resolver shared by every parent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any, cast

import strawberry

from cms.cache.tracking import POSTS_LIST, author_posts_key, record, record_posts, tag_posts_key
from cms.errors import InvalidInput
from cms.graphql.context import Info
from cms.graphql.loaders.posts import PostCountKey, PostPageKey
from cms.graphql.node import from_global_id
from cms.graphql.pagination import Connection, Edge, PageInfo
from cms.graphql.posts.inputs import PostFilter, PostOrder
from cms.graphql.posts.time_travel import AS_OF_HELP, resolve_post_as_of
from cms.graphql.posts.types import Post
from cms.models import Post as PostModel
from cms.services import posts as post_service
from cms.services.pagination import PageRequest
from cms.services.post_pages import PageSpec, ParentKind, fetch_post_page
from cms.services.posts import PostOrdering

PAGE_ARGUMENT_HELP = "Page size: default 20, at most 100; more is an error, never a silent cap."
AFTER_HELP = "Start after the item with this cursor."
BEFORE_HELP = "End before the item with this cursor."


async def resolve_posts(
    root: Any,
    info: Info,
    first: Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENT_HELP)] = None,
    after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    last: Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENT_HELP)] = None,
    before: Annotated[str | None, strawberry.argument(description=BEFORE_HELP)] = None,
    filter: PostFilter | None = None,
    order_by: PostOrder = PostOrdering.PUBLISHED_AT_DESC,  # type: ignore[valid-type]
) -> Connection[Post]:
    """A page of visible posts. Under a Tag or an Author, only that tag's or author's posts.

    Under a parent the page comes from a loader, so that a list of tags (or authors) reads
    every tag's page in one statement rather than one statement per tag.
    """
    from cms.graphql.authors.types import Author
    from cms.graphql.tags.types import Tag

    context = info.context
    visibility = context.visibility
    ordering: PostOrdering = order_by
    sort_key = post_service.sort_key_for(ordering, visibility)
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
    parent: ParentKind | None = (
        "tag" if isinstance(root, Tag) else "author" if isinstance(root, Author) else None
    )
    count_rows: Callable[[], Awaitable[int]]
    if parent is None:
        record(POSTS_LIST)
        page = await fetch_post_page(visibility, criteria, sort_key, PageSpec.of(request))
        count_rows = post_service.find_posts(visibility, criteria).count
    else:
        record(tag_posts_key(root.pk) if parent == "tag" else author_posts_key(root.pk))
        page = await context.loaders.post_page_by_parent.load(
            PostPageKey(parent, root.pk, criteria, ordering, PageSpec.of(request))
        )
        count_key = PostCountKey(parent, root.pk, criteria)

        def count_rows() -> Awaitable[int]:
            return context.loaders.post_count_by_parent.load(count_key)

    record_posts(row["id"] for row in page.rows)
    return Connection(
        edges=[
            # A row has every column of the post table, which is all from_model reads.
            Edge(cursor=cursor, node=Post.from_model(cast(PostModel, SimpleNamespace(**row))))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count_rows=count_rows,
    )


@strawberry.type
class PostQueries:
    posts: Connection[Post] = strawberry.field(
        resolver=resolve_posts, description="Visible posts, newest first unless ordered otherwise."
    )

    @strawberry.field(description="One post by global id or by slug (give exactly one).")
    async def post(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        slug: str | None = None,
        as_of: Annotated[datetime | None, strawberry.argument(description=AS_OF_HELP)] = None,
    ) -> Post | None:
        if (id is None) == (slug is None):
            raise InvalidInput("Give exactly one of `id` and `slug`.", field="id")
        post_id = None
        if id is not None:
            type_name, post_id = from_global_id(id)
            if type_name != "Post":
                raise InvalidInput(f"{id!r} is not the id of a Post.", field="id")
        if as_of is not None:
            past = await resolve_post_as_of(info, post_id=post_id, slug=slug, as_of=as_of)
            if past is None:
                record(POSTS_LIST)
            else:
                record_posts((past.pk,))
            return past
        post = await post_service.get_post(info.context.visibility, post_id=post_id, slug=slug)
        if post is None:
            # A post that appears later (published, or given this slug) must purge this answer.
            record(POSTS_LIST)
            return None
        record_posts((post.id,))
        return Post.from_model(post)
