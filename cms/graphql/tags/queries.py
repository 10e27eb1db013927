"""Read fields for tags."""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.declarations import ConnectionOf, Lookup, loads
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.posts.types import Tag
from cms.models import Tag as TagModel
from cms.services.inputs import check_slug
from cms.services.pagination import SortKey

BY_NAME = SortKey((("name", False), ("id", False)))


@strawberry.type
class TagQueries:
    @strawberry.field(description="One tag by slug.", metadata=loads(Lookup("tag")))
    async def tag(self, slug: str) -> Tag | None:
        check_slug(slug, field="slug")
        tag = await TagModel.get_or_none(slug=slug)
        return Tag.from_model(tag) if tag else None

    @strawberry.field(description="All tags, by name.", metadata=loads(ConnectionOf("tags")))
    async def tags(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Tag]:
        return await build_connection(
            TagModel.all(),
            sort_key=BY_NAME,
            settings=info.context.settings,
            convert=Tag.from_model,
            first=first,
            after=after,
        )
