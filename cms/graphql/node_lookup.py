"""The `node(id:)` root field: fetch any object by its global id, with the usual visibility."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import Node, from_global_id
from cms.graphql.posts.types import Author, Post, Section, Tag
from cms.models import Author as AuthorModel
from cms.models import Section as SectionModel
from cms.models import Tag as TagModel
from cms.services import posts as post_service
from cms.services.visibility import Visibility


async def _post(visibility: Visibility, pk: int) -> Node | None:
    post = await post_service.get_post(visibility, post_id=pk)
    return Post.from_model(post) if post else None


async def _section(visibility: Visibility, pk: int) -> Node | None:
    # A section is as visible as the post it belongs to.
    section = await SectionModel.filter(visibility.post_filter("post__"), id=pk).first()
    return Section.from_model(section) if section else None


async def _tag(_: Visibility, pk: int) -> Node | None:
    tag = await TagModel.get_or_none(id=pk)
    return Tag.from_model(tag) if tag else None


async def _author(_: Visibility, pk: int) -> Node | None:
    author = await AuthorModel.get_or_none(id=pk)
    return Author.from_model(author) if author else None


FETCHERS: dict[str, Callable[[Visibility, int], Awaitable[Node | None]]] = {
    "Post": _post,
    "Section": _section,
    "Tag": _tag,
    "Author": _author,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null if it is not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = from_global_id(id)
        fetch = FETCHERS.get(type_name)
        return await fetch(info.context.visibility, pk) if fetch else None
