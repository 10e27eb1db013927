"""Anonymous readers' post lists and counts in O(page): index ranges and counters.

For a reader who sees only live posts (``Visibility.sees_unpublished`` is false), a post is
visible exactly when ``post.listed`` holds and its ``published_at`` has passed (migration
0009). Every statement here is one ordered range of an index that leads with those terms:

- the site's lists: ``post (listed, <sort column>, id)``;
- an author's: ``post (author_id, listed, published_at, id)``;
- a tag's: ``post_tag (tag_id, listed, published_at, post_id)``, on the copies of the post's
  values the links carry, joined to ``post`` for the page's rows only.

An author's or a tag's list in ``TITLE_ASC`` or ``UPDATED_AT_DESC`` order reads that parent's
visible posts and sorts them: O(posts of the parent), a few thousand at a million posts, where
another pair of indexes per order would cost every write.

Several parents at once (``tags(first: 100) { posts(first: 5) }``) are one statement: a
``UNION ALL`` of per-parent ``LIMIT``ed ranges, never a window over every post of every parent.
Each branch's rows come back together and in the branch's order.

Counts come from ``post_listing_count`` (kept by triggers in each writer's transaction) minus
the listed posts still dated in the future, which is an index range over the few scheduled
posts. Lists with other criteria (slugs, ``tagsAny``, dates) and readers who see drafts take
the general statements of ``cms.services.post_pages``, which are correct for every viewer but
cost what the matching posts cost.

The SQL is built with pypika (the builder Tortoise ships), with placeholders numbered here
(``statement``), and run on the default connection. Rows come back as the database returns
them: callers convert the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pypika_tortoise.enums import Order
from pypika_tortoise.functions import Count
from pypika_tortoise.queries import Query, QueryBuilder, Table
from pypika_tortoise.terms import Criterion, Field, Parameterizer, Term, Tuple, ValueWrapper
from tortoise import connections

from cms.services.pagination import CursorValue, SortKey
from cms.services.posts import PostCriteria
from cms.services.visibility import Visibility

ParentKind = Literal["tag", "author"]
Row = dict[str, Any]

PARENT = "parent_key"

_POST = Table("post")
_LINK = Table("post_tag")
_AUTHOR = Table("author")
_COUNTS = Table("post_listing_count")
# A tag's list sorted by publication reads these columns of the link rather than the post's.
_ON_LINK = {"published_at": _LINK.published_at, "id": _LINK.post_id}


def serves(visibility: Visibility, criteria: PostCriteria) -> bool:
    """Whether these statements answer this list: an anonymous-like reader, no slug criteria."""
    return (
        not visibility.sees_unpublished
        and criteria.tag is None
        and not criteria.tags_any
        and criteria.author is None
        and criteria.tag_id is None
        and criteria.author_id is None
    )


def counts_serve(visibility: Visibility, criteria: PostCriteria) -> bool:
    """Whether ``live_counts`` answers this list's count: all of a parent's (or the site's)
    visible posts, which the counters hold."""
    return (
        serves(visibility, criteria)
        and criteria.published_after is None
        and criteria.published_before is None
    )


def _query() -> type[Query]:
    # The query class of the default connection's dialect (its quoting and SQL features).
    query_class: type[Query] = connections.get("default").query_class
    return query_class


def _branch(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    parent: ParentKind | None,
    parent_id: int | None,
) -> tuple[QueryBuilder, dict[str, Term], Term | None]:
    """The visible posts of one list, unordered: the query, its sort columns and parent key."""
    query_class = _query()
    names = [name for name, _ in sort_key.fields]
    on_link = parent == "tag" and set(names) <= set(_ON_LINK)
    source = _LINK if parent == "tag" else _POST
    dated = _LINK.published_at if parent == "tag" else _POST.published_at
    query = query_class.from_(source)
    if parent == "tag":
        query = query.join(_POST).on(_POST.id == _LINK.post_id)
    # Ordered by another column, the date term is written so that no index can take it: a
    # range on post_listed_published_idx would otherwise look cheaper to SQLite's planner
    # than walking the order's own index, then sort every live post. Both mean the same, as a
    # listed post always has a published_at.
    live = dated <= visibility.now if "published_at" in names else (dated > visibility.now).negate()
    conditions: list[Criterion] = [source.listed == True, live]  # noqa: E712
    key: Term | None = None
    if parent == "tag":
        key = _LINK.tag_id
        conditions.append(_LINK.tag_id == parent_id)
    elif parent == "author":
        key = _POST.author_id
        conditions.append(_POST.author_id == parent_id)
    if criteria.published_after is not None:
        conditions.append(dated >= criteria.published_after)
    if criteria.published_before is not None:
        conditions.append(dated < criteria.published_before)
    query = query.where(Criterion.all(conditions))
    columns: dict[str, Term] = {
        name: _ON_LINK[name] if on_link else Field(name, table=_POST) for name in names
    }
    return query, columns, key


def _beyond(
    columns: dict[str, Term], sort_key: SortKey, cursor: Sequence[CursorValue], *, backwards: bool
) -> Criterion:
    """Rows strictly after ``cursor`` in ``sort_key`` order (before it if ``backwards``).

    A row-value comparison, which both engines match against the index as one range; it
    needs every field sorted the same way, as every post order is (see ``PostOrdering``).
    """
    directions = {desc for _, desc in sort_key.fields}
    assert len(directions) == 1, "post orders sort every field the same way"  # noqa: S101
    left = Tuple(*columns.values())
    right = Tuple(*(ValueWrapper(value) for value in cursor))
    return left < right if directions.pop() != backwards else left > right


async def pages(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    *,
    size: int,
    after: Sequence[CursorValue] | None,
    before: Sequence[CursorValue] | None,
    backwards: bool,
    parent: ParentKind | None,
    parent_ids: Sequence[int],
    columns: Sequence[str],
    author_columns: Mapping[str, str] | None = None,
) -> dict[int | None, list[Row]]:
    """Up to ``size + 1`` rows of each parent's page (of the site's list if no parent).

    Each row holds ``columns`` of the post and, under the names ``author_columns`` maps
    them from, the columns of its author that the map names.
    """
    query = page_query(
        visibility,
        criteria,
        sort_key,
        size=size,
        after=after,
        before=before,
        backwards=backwards,
        parent=parent,
        parent_ids=parent_ids,
        columns=columns,
        author_columns=author_columns,
    )
    grouped: dict[int | None, list[Row]] = {key: [] for key in _keys(parent, parent_ids)}
    for row in await _run(query):
        grouped[row.pop(PARENT) if parent else None].append(row)
    return grouped


def page_query(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    *,
    size: int,
    after: Sequence[CursorValue] | None,
    before: Sequence[CursorValue] | None,
    backwards: bool,
    parent: ParentKind | None,
    parent_ids: Sequence[int],
    columns: Sequence[str],
    author_columns: Mapping[str, str] | None = None,
) -> QueryBuilder:
    """The statement ``pages`` runs."""
    branches = []
    for key in _keys(parent, parent_ids):
        query, sort_columns, parent_key = _branch(visibility, criteria, sort_key, parent, key)
        if parent_key is not None:
            query = query.select(parent_key.as_(PARENT))
        query = query.select(*(Field(name, table=_POST) for name in columns))
        if author_columns:
            query = query.join(_AUTHOR).on(_AUTHOR.id == _POST.author_id)
            query = query.select(
                *(
                    Field(column, table=_AUTHOR).as_(alias)
                    for alias, column in author_columns.items()
                )
            )
        if after is not None:
            query = query.where(_beyond(sort_columns, sort_key, after, backwards=False))
        if before is not None:
            query = query.where(_beyond(sort_columns, sort_key, before, backwards=True))
        for (_, desc), column in zip(sort_key.fields, sort_columns.values(), strict=True):
            query = query.orderby(column, order=Order.desc if desc != backwards else Order.asc)
        branches.append(query.limit(size + 1))
    return _union(branches)


async def parents_beyond(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    cursor: Sequence[CursorValue],
    *,
    backwards: bool,
    parent: ParentKind | None,
    parent_ids: Sequence[int],
) -> set[int | None]:
    """The parents (``None`` for the site's list) with visible rows before ``cursor`` (after
    it if ``backwards``): whether a page that starts at the cursor has a previous page."""
    query = beyond_query(
        visibility,
        criteria,
        sort_key,
        cursor,
        backwards=backwards,
        parent=parent,
        parent_ids=parent_ids,
    )
    rows = await _run(query)
    return {row[PARENT] for row in rows} if parent else ({None} if rows else set())


def beyond_query(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    cursor: Sequence[CursorValue],
    *,
    backwards: bool,
    parent: ParentKind | None,
    parent_ids: Sequence[int],
) -> QueryBuilder:
    """The statement ``parents_beyond`` runs."""
    branches = []
    for key in _keys(parent, parent_ids):
        query, sort_columns, parent_key = _branch(visibility, criteria, sort_key, parent, key)
        beyond = _beyond(sort_columns, sort_key, cursor, backwards=not backwards)
        # The site's list has no parent key: any column says that a row exists.
        found = parent_key if parent_key is not None else list(sort_columns.values())[-1]
        branches.append(query.where(beyond).select(found.as_(PARENT)).limit(1))
    return _union(branches)


async def live_counts(
    visibility: Visibility, parent: ParentKind | None, parent_ids: Sequence[int]
) -> dict[int | None, int]:
    """How many visible posts each parent (the site if no parent) has, from the counters.

    Only for lists ``counts_serve`` accepts. One statement: each counter minus the listed
    posts still dated in the future, which it holds but readers do not see yet.
    """
    keys = _keys(parent, parent_ids)
    counts = {
        row["parent_id"]: int(row["live"])
        for row in await _run(count_query(visibility, parent, parent_ids))
    }
    # A parent without a counter row never had a listed post.
    return {key: counts.get(key if key is not None else 0, 0) for key in keys}


def count_query(
    visibility: Visibility, parent: ParentKind | None, parent_ids: Sequence[int]
) -> QueryBuilder:
    """The statement ``live_counts`` runs."""
    source = _LINK if parent == "tag" else _POST
    future = (
        _query()
        .from_(source)
        .select(Count("*"))
        .where((source.listed == True) & (source.published_at > visibility.now))  # noqa: E712
    )
    if parent is not None:
        owner = _LINK.tag_id if parent == "tag" else _POST.author_id
        future = future.where(owner == _COUNTS.parent_id)
    ids = [key if key is not None else 0 for key in _keys(parent, parent_ids)]
    return (
        _query()
        .from_(_COUNTS)
        .select(_COUNTS.parent_id, (_COUNTS.listed - future).as_("live"))
        .where(_COUNTS.scope == (parent or "site"))
        .where(_COUNTS.parent_id.isin(ids))
    )


def _keys(parent: ParentKind | None, parent_ids: Sequence[int]) -> list[int | None]:
    # Each parent once, in the order given; the site's list is the one key None.
    return list(dict.fromkeys(parent_ids)) if parent else [None]


def _union(branches: Sequence[QueryBuilder]) -> QueryBuilder:
    if len(branches) == 1:
        return branches[0]
    # Each branch is wrapped (SELECT * FROM (<branch>)), so that its ORDER BY and LIMIT stay
    # its own: SQLite accepts no parenthesised branch in a compound statement.
    query_class = _query()
    wrapped = [query_class.from_(b, wrap_set_operation_queries=False).select("*") for b in branches]
    first, second, *rest = wrapped
    union = first.union_all(second)
    for branch in rest:
        union = union.union_all(branch)
    return query_class.from_(union).select("*")


def statement(query: QueryBuilder) -> tuple[str, list[Any]]:
    """The SQL text and parameters of ``query`` for the default connection.

    The placeholders are numbered here rather than left to the dialect, because pypika
    renders the branches of a ``UNION`` without their dialect (as ``?`` on PostgreSQL too).
    """
    db = connections.get("default")
    numbered = Parameterizer(placeholder_factory=_PLACEHOLDERS[db.capabilities.dialect])
    sql, params = query.get_parameterized_sql(
        db.query_class.SQL_CONTEXT.copy(parameterizer=numbered)
    )
    return sql, params


_PLACEHOLDERS: dict[str, Callable[[int], str]] = {
    "sqlite": lambda n: f"?{n}",
    "postgres": lambda n: f"${n}",
}


async def _run(query: QueryBuilder) -> list[Row]:
    sql, params = statement(query)
    rows: list[Row] = await connections.get("default").execute_query_dict(sql, params)
    return rows
