"""The Tag object type."""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import Node, to_global_id
from cms.graphql.pagination import Connection
from cms.graphql.posts.queries import resolve_posts
from cms.graphql.posts.types import Post
from cms.graphql.rows import from_row
from cms.models import Tag as TagModel


@strawberry.type(description="A tag groups posts on one subject.")
class Tag(Node):
    pk: strawberry.Private[int]
    name: str
    slug: str
    description: str

    posts: Connection[Post] = strawberry.field(
        resolver=resolve_posts, description="This tag's visible posts."
    )

    @strawberry.field(description="How many visible posts carry this tag.")
    async def post_count(self, info: Info) -> int:
        return await info.context.loaders.post_count_by_tag_id.load(self.pk)

    @classmethod
    def from_model(cls, tag: TagModel) -> Tag:
        return from_row(cls, tag, id=to_global_id("Tag", tag.id), pk=tag.id)
