"""Read fields for authors."""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.declarations import ConnectionOf, Lookup, loads
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.posts.types import Author
from cms.graphql.tags.queries import BY_NAME
from cms.models import Author as AuthorModel
from cms.services.inputs import check_slug


@strawberry.type
class AuthorQueries:
    @strawberry.field(description="One author by slug.", metadata=loads(Lookup("author")))
    async def author(self, slug: str) -> Author | None:
        check_slug(slug, field="slug")
        author = await AuthorModel.get_or_none(slug=slug)
        return Author.from_model(author) if author else None

    @strawberry.field(description="All authors, by name.", metadata=loads(ConnectionOf("authors")))
    async def authors(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Author]:
        return await build_connection(
            AuthorModel.all(),
            sort_key=BY_NAME,
            settings=info.context.settings,
            convert=Author.from_model,
            first=first,
            after=after,
        )
