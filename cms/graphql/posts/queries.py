"""Read fields for posts: the root `posts` list and `post(id:, slug:, asOf:)`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from cms.cache.tracking import POSTS_LIST, record, record_posts
from cms.graphql.context import Info
from cms.graphql.declarations import Lookup, loads
from cms.graphql.pagination import Connection
from cms.graphql.posts.lookup import post_lookup
from cms.graphql.posts.time_travel import AS_OF_HELP, resolve_post_as_of
from cms.graphql.posts.types import Post, post_list_field
from cms.services import posts as post_service


@strawberry.type
class PostQueries:
    posts: Connection[Post] = post_list_field(
        None, "Visible posts, newest first unless ordered otherwise."
    )

    @strawberry.field(
        description="One post by global id or by slug (give exactly one).",
        # A past state is rebuilt from revisions by its resolver (time_travel).
        metadata=loads(Lookup("post", standard_only=("asOf",))),
    )
    async def post(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        slug: str | None = None,
        as_of: Annotated[datetime | None, strawberry.argument(description=AS_OF_HELP)] = None,
    ) -> Post | None:
        asked = post_lookup(id, slug)
        if as_of is not None:
            past = await resolve_post_as_of(
                info, post_id=asked.post_id, slug=asked.slug, as_of=as_of
            )
            if past is None:
                record(POSTS_LIST)
            else:
                record_posts((past.pk,))
            return past
        post = await post_service.get_post(
            info.context.visibility, post_id=asked.post_id, slug=asked.slug
        )
        if post is None:
            # A post that appears later (published, or given this slug) must purge this answer.
            record(POSTS_LIST)
            return None
        record_posts((post.id,))
        return Post.from_model(post)
