"""Relay connections: the generic Connection/Edge/PageInfo types and how a page fills them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cms.services.pagination import PageRequest, SortKey, paginate
from cms.settings import Settings

NodeT = TypeVar("NodeT")
ModelT = TypeVar("ModelT", bound=Model)


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="A page of a list, with cursors to fetch its neighbours.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count_rows: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self) -> int:
        # Counted only when asked for: most frontends never select it.
        return await self.count_rows()


async def build_connection(
    queryset: QuerySet[ModelT],
    *,
    sort_key: SortKey,
    settings: Settings,
    convert: Callable[[ModelT], NodeT],
    first: int | None,
    after: str | None,
) -> Connection[NodeT]:
    """Validate the page arguments, read the page, and wrap it as a connection.

    The lists built here page forwards only (``posts``, which also pages backwards, builds its
    own request in ``cms.graphql.posts.queries``).
    """
    request = PageRequest.from_args(
        first=first,
        after=after,
        last=None,
        before=None,
        default_size=settings.default_page_size,
        max_size=settings.max_page_size,
        sort_key=sort_key,
    )
    page = await paginate(queryset, sort_key, request)
    edges = [
        Edge(cursor=cursor, node=convert(row))
        for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count_rows=queryset.count,
    )
