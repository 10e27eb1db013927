"""The `search` root field."""

from __future__ import annotations

from typing import Annotated

import strawberry

from cms.cache.tracking import UNTRACKED, record
from cms.graphql.context import Info
from cms.graphql.posts.inputs import PostFilter
from cms.graphql.posts.lists import AFTER_HELP, PAGE_ARGUMENT_HELP
from cms.graphql.search.types import SearchConnection
from cms.services.search import search_posts

QUERY_HELP = (
    "Words to find in titles, excerpts, headings and bodies (all of them must match). "
    '`"exact phrase"`, `prefix*`, `-excluded` and `OR` work as in web search. At most 256 '
    "characters; a query with no word to search for is BAD_USER_INPUT."
)


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Visible posts matching `query`, best match first. Cursors are positions "
        "in this one search: a cursor from another query or filter is BAD_USER_INPUT."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description=QUERY_HELP)],
        first: Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENT_HELP)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
        filter: PostFilter | None = None,
    ) -> SearchConnection:
        settings = info.context.settings
        # Any write can change what a search finds or how it ranks, so any write purges it.
        record(UNTRACKED)
        results = await search_posts(
            info.context.visibility,
            query=query,
            criteria=(filter or PostFilter()).to_criteria(),
            first=first,
            after=after,
            default_size=settings.default_page_size,
            max_size=settings.max_page_size,
        )
        return SearchConnection.from_results(results)
