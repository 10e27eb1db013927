"""Which content a response was built from, recorded while it resolves.

Every read path records what it touched as *surrogate keys*: ``post-12``, ``tag-3``,
``author-4`` for single rows, and list scopes for lists that a new or changed row could enter:
``posts-list`` (any list of posts not scoped to one parent), ``tag-3-posts``,
``author-4-posts``, ``tags-list`` and ``authors-list``. A cached response is purged when a
content change names one of its keys (see ``cms.cache.invalidation``); the keys are also sent
in the ``Surrogate-Key`` header so that a CDN can purge the same way.

Recording is a no-op outside ``tracking()``, so loaders can call it unconditionally. The set
lives in a context variable: DataLoader batches, which run in tasks spawned by the resolvers,
record into the request that caused them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLFieldResolver,
    GraphQLList,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
)

POSTS_LIST = "posts-list"
TAGS_LIST = "tags-list"
AUTHORS_LIST = "authors-list"
# Recorded by a read path that cannot say what it touched: any content change purges it.
UNTRACKED = "untracked"


def post_key(post_id: int) -> str:
    return f"post-{post_id}"


def tag_key(tag_id: int) -> str:
    return f"tag-{tag_id}"


def author_key(author_id: int) -> str:
    return f"author-{author_id}"


def tag_posts_key(tag_id: int) -> str:
    return f"tag-{tag_id}-posts"


def author_posts_key(author_id: int) -> str:
    return f"author-{author_id}-posts"


_touched: ContextVar[set[str] | None] = ContextVar("cms_touched_content", default=None)


@contextmanager
def tracking() -> Iterator[set[str]]:
    """Collect the surrogate keys recorded inside the block (and the tasks it spawns)."""
    touched: set[str] = set()
    token = _touched.set(touched)
    try:
        yield touched
    finally:
        _touched.reset(token)


def record(*keys: str) -> None:
    touched = _touched.get()
    if touched is not None:
        touched.update(keys)


def record_posts(post_ids: Iterable[int]) -> None:
    touched = _touched.get()
    if touched is not None:
        touched.update(post_key(post_id) for post_id in post_ids)


def record_tags(tag_ids: Iterable[int]) -> None:
    touched = _touched.get()
    if touched is not None:
        touched.update(tag_key(tag_id) for tag_id in tag_ids)


def record_authors(author_ids: Iterable[int]) -> None:
    touched = _touched.get()
    if touched is not None:
        touched.update(author_key(author_id) for author_id in author_ids)


# Root fields resolve once per request, so wrapping them costs nothing measurable; below the
# root, the loaders record what they read.
_LIST_SCOPES = {
    "Post": (POSTS_LIST,),
    "Section": (POSTS_LIST,),
    "Tag": (TAGS_LIST,),
    "Author": (AUTHORS_LIST,),
    "Node": (POSTS_LIST, TAGS_LIST, AUTHORS_LIST),
}
_TRACKED = "__cms_tracked__"


def track_root_fields(schema: GraphQLSchema) -> None:
    """Make every root query field record what it returns (idempotent).

    A returned post, tag, author or section records its own key; a list or connection also
    records its type's list scope (a new row could enter it), and so does a null (a row could
    appear under the slug or id asked for). Anything of another type records ``untracked``.
    """
    query_type = schema.query_type
    if query_type is None:
        return
    for field in query_type.fields.values():
        resolve = field.resolve
        if resolve is None or getattr(resolve, _TRACKED, False):
            continue
        field.resolve = _tracked(resolve, field.type)


def _tracked(resolve: GraphQLFieldResolver, declared: GraphQLOutputType) -> GraphQLFieldResolver:
    named = get_named_type(declared)
    base = named.name.removesuffix("Connection") if named is not None else ""
    plural = isinstance(get_nullable_type(declared), GraphQLList) or base != getattr(
        named, "name", ""
    )

    def record_result(value: Any) -> None:
        touched = _touched.get()
        if touched is None:
            return
        scopes = _LIST_SCOPES.get(base)
        if scopes is None:
            if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
                touched.add(UNTRACKED)
            return
        if value is None or plural:
            touched.update(scopes)
        _record_objects(value, touched)

    def tracked(source: Any, info: Any, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        if _touched.get() is None:
            return result
        if isawaitable(result):
            return _then_record(result, record_result)
        record_result(result)
        return result

    setattr(tracked, _TRACKED, True)
    return tracked


async def _then_record(result: Awaitable[Any], record_result: Callable[[Any], None]) -> Any:
    value = await result
    record_result(value)
    return value


def _record_objects(value: Any, touched: set[str]) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _record_objects(item, touched)
        return
    edges = getattr(value, "edges", None)
    if isinstance(edges, list):
        for edge in edges:
            _record_objects(getattr(edge, "node", None), touched)
        return
    kind = type(value).__name__
    pk = getattr(value, "pk", None)
    if kind == "Post" and isinstance(pk, int):
        touched.add(post_key(pk))
    elif kind == "Tag" and isinstance(pk, int):
        touched.add(tag_key(pk))
    elif kind == "Author" and isinstance(pk, int):
        touched.add(author_key(pk))
    elif kind == "Section" and isinstance(getattr(value, "post_id", None), int):
        touched.add(post_key(value.post_id))
    else:
        touched.add(UNTRACKED)
