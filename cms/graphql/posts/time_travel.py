"""`post(asOf:)`: a post as it was at a moment (its past sections and tags: ``types``)."""

from __future__ import annotations

from datetime import datetime

from cms.graphql.context import Info
from cms.graphql.posts.types import Post
from cms.services.time_travel import post_as_of

AS_OF_HELP = (
    "Read the post as it was at this moment (from its revisions): null if it did not exist "
    "yet, or was not visible to you then. Anonymous readers see only what was public at that "
    "moment, even if it is unpublished now. Find the post by id or by its current slug."
)


async def resolve_post_as_of(
    info: Info, *, post_id: int | None, slug: str | None, as_of: datetime
) -> Post | None:
    past = await post_as_of(info.context.visibility, as_of=as_of, post_id=post_id, slug=slug)
    if past is None:
        return None
    post = Post.from_model(past.post)
    post.past = past.content
    return post
