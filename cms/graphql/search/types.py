"""The search result connection: posts with their rank and a highlighted snippet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from cms.graphql.pagination import PageInfo
from cms.graphql.posts.types import Post
from cms.services.search import SearchResults


@strawberry.type(description="One search hit: a post, how well it matched, and where.")
class SearchEdge:
    cursor: str
    node: Post
    rank: float = strawberry.field(
        description="Higher is a better match. Compare ranks within one search only: the "
        "scale depends on the database and on the whole collection."
    )
    snippet: str = strawberry.field(
        description="HTML: a fragment of the post around its matches, HTML-escaped, with each "
        "match wrapped in `<mark>...</mark>` and cuts marked by `…`. The fragment comes from "
        "the stored text (markdown source), not from the rendered HTML."
    )


@strawberry.type(description="A page of search results, best match first.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    count_rows: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many visible posts match, across all pages.")
    async def total_count(self) -> int:
        return await self.count_rows()

    @classmethod
    def from_results(cls, results: SearchResults) -> SearchConnection:
        edges = [
            SearchEdge(
                cursor=hit.cursor,
                node=Post.from_model(hit.post),
                rank=hit.rank,
                snippet=hit.snippet,
            )
            for hit in results.hits
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=results.has_next_page,
                has_previous_page=results.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count_rows=results.count,
        )
