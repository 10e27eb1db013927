"""Read fields for posts, including the one `posts` list resolver shared by every parent."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from cms.errors import InvalidInput
from cms.graphql.context import Info
from cms.graphql.node import from_global_id
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.posts.inputs import PostFilter, PostOrder
from cms.graphql.posts.types import Post
from cms.services import posts as post_service
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
    """A page of visible posts. Under a Tag or an Author, only that tag's or author's posts."""
    from cms.graphql.authors.types import Author
    from cms.graphql.tags.types import Tag

    criteria = (filter or PostFilter()).to_criteria(
        tag_id=root.pk if isinstance(root, Tag) else None,
        author_id=root.pk if isinstance(root, Author) else None,
    )
    ordering: PostOrdering = order_by
    return await build_connection(
        post_service.find_posts(info.context.visibility, criteria),
        sort_key=ordering.value,
        settings=info.context.settings,
        convert=Post.from_model,
        first=first,
        after=after,
        last=last,
        before=before,
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
    ) -> Post | None:
        if (id is None) == (slug is None):
            raise InvalidInput("Give exactly one of `id` and `slug`.", field="id")
        post_id = None
        if id is not None:
            type_name, post_id = from_global_id(id)
            if type_name != "Post":
                raise InvalidInput(f"{id!r} is not the id of a Post.", field="id")
        post = await post_service.get_post(info.context.visibility, post_id=post_id, slug=slug)
        return Post.from_model(post) if post else None
