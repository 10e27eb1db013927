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

The SQL is built with pypika (the builder Tortoise ships) once per statement shape (which
parent kind, how many parents, the order, which cursors and date bounds), with numbered
placeholders named here (``_Slots``): a request only looks its shape up and lists its values.
Building a twenty-branch page costs pypika several milliseconds, more than running it. Rows
come back as the database returns them: callers convert the columns.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pypika_tortoise.enums import Order
from pypika_tortoise.functions import Count
from pypika_tortoise.queries import Query, QueryBuilder, Table
from pypika_tortoise.terms import Criterion, Field, Parameter, Term, Tuple
from tortoise import connections

from cms.services.pagination import CursorValue, PageSpec, SortKey
from cms.services.posts import PostCriteria
from cms.services.visibility import Visibility

ParentKind = Literal["tag", "author"]
Row = dict[str, Any]
Statement = tuple[str, list[Any]]

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


@dataclass(frozen=True)
class Shape:
    """Everything about a list that changes the text of its statements (not the values)."""

    sort_key: SortKey
    parent: ParentKind | None = None
    parents: int = 0
    backwards: bool = False
    after: bool = False
    before: bool = False
    published_after: bool = False
    published_before: bool = False

    @classmethod
    def of(
        cls,
        criteria: PostCriteria,
        sort_key: SortKey,
        *,
        parent: ParentKind | None,
        parent_ids: Sequence[int],
        backwards: bool = False,
        after: Sequence[CursorValue] | None = None,
        before: Sequence[CursorValue] | None = None,
    ) -> Shape:
        return cls(
            sort_key=sort_key,
            parent=parent,
            parents=len(parent_ids) if parent else 0,
            backwards=backwards,
            after=after is not None,
            before=before is not None,
            published_after=criteria.published_after is not None,
            published_before=criteria.published_before is not None,
        )


def values(
    visibility: Visibility,
    criteria: PostCriteria,
    *,
    parent_ids: Sequence[int] = (),
    after: Sequence[CursorValue] | None = None,
    before: Sequence[CursorValue] | None = None,
    size: int = 0,
) -> dict[str, Any]:
    """The values of a list's statements, by slot name (a statement reads those it names)."""
    named: dict[str, Any] = {
        "listed": True,
        "now": visibility.now,
        "published_after": criteria.published_after,
        "published_before": criteria.published_before,
        "limit": size + 1,
        "one": 1,
    }
    named.update((f"parent{i}", parent_id) for i, parent_id in enumerate(parent_ids))
    named.update((f"after{i}", value) for i, value in enumerate(after or ()))
    named.update((f"before{i}", value) for i, value in enumerate(before or ()))
    return named


class _Slots:
    """Numbered placeholders by name: the same name is the same parameter everywhere.

    Numbered by hand because pypika renders the branches of a ``UNION`` without their dialect
    (as ``?`` on PostgreSQL too); SQLite reads ``?N`` and PostgreSQL ``$N``.
    """

    def __init__(self, dialect: str) -> None:
        self.sign = "$" if dialect == "postgres" else "?"
        self.names: dict[str, int] = {}

    def __call__(self, name: str) -> Parameter:
        number = self.names.setdefault(name, len(self.names) + 1)
        return Parameter(f"{self.sign}{number}")

    def order(self) -> tuple[str, ...]:
        return tuple(self.names)


def _bound(built: tuple[str, tuple[str, ...]], named: Mapping[str, Any]) -> Statement:
    sql, order = built
    return sql, [named[name] for name in order]


def _client() -> Any:
    return connections.get("default")


def _dialect() -> str:
    dialect: str = _client().capabilities.dialect
    return dialect


def _branch(
    slot: _Slots, shape: Shape, index: int
) -> tuple[QueryBuilder, dict[str, Term], Term | None]:
    """The visible posts of one list (parent number ``index``), unordered: the query, its
    sort columns and its parent key."""
    query_class: type[Query] = _client().query_class
    names = [name for name, _ in shape.sort_key.fields]
    parent = shape.parent
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
    now = slot("now")
    live = dated <= now if "published_at" in names else (dated > now).negate()
    conditions: list[Criterion] = [source.listed == slot("listed"), live]
    key: Term | None = None
    if parent is not None:
        key = _LINK.tag_id if parent == "tag" else _POST.author_id
        conditions.append(key == slot(f"parent{index}"))
    if shape.published_after:
        conditions.append(dated >= slot("published_after"))
    if shape.published_before:
        conditions.append(dated < slot("published_before"))
    query = query.where(Criterion.all(conditions))
    columns: dict[str, Term] = {
        name: _ON_LINK[name] if on_link else Field(name, table=_POST) for name in names
    }
    return query, columns, key


def _beyond(
    slot: _Slots, columns: dict[str, Term], sort_key: SortKey, cursor: str, *, backwards: bool
) -> Criterion:
    """Rows strictly after the cursor named ``cursor`` in ``sort_key`` order (before it if
    ``backwards``).

    A row-value comparison, which both engines match against the index as one range; it
    needs every field sorted the same way, as every post order is (see ``PostOrdering``).
    """
    directions = {desc for _, desc in sort_key.fields}
    assert len(directions) == 1, "post orders sort every field the same way"  # noqa: S101
    left = Tuple(*columns.values())
    right = Tuple(*(slot(f"{cursor}{i}") for i in range(len(columns))))
    return left < right if directions.pop() != backwards else left > right


async def pages(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    page: PageSpec,
    *,
    parent: ParentKind | None,
    parent_ids: Sequence[int],
    columns: Sequence[str],
    author_columns: Mapping[str, str] | None = None,
) -> dict[int | None, list[Row]]:
    """Up to ``page.size + 1`` rows of each parent's page (of the site's list if no parent).

    Each row holds ``columns`` of the post and, under the names ``author_columns`` maps
    them from, the columns of its author that the map names.
    """
    ids = _unique(parent, parent_ids)
    keys: list[int | None] = [*ids] if parent else [None]
    shape = Shape.of(
        criteria,
        sort_key,
        parent=parent,
        parent_ids=ids,
        backwards=page.backwards,
        after=page.after,
        before=page.before,
    )
    named = values(
        visibility,
        criteria,
        parent_ids=ids,
        after=page.after,
        before=page.before,
        size=page.size,
    )
    statement = page_statement(shape, columns, author_columns or {}, named)
    grouped: dict[int | None, list[Row]] = {key: [] for key in keys}
    for row in await _run(statement):
        grouped[row.pop(PARENT) if parent else None].append(row)
    return grouped


def page_statement(
    shape: Shape,
    columns: Sequence[str],
    author_columns: Mapping[str, str],
    named: Mapping[str, Any],
) -> Statement:
    """The statement ``pages`` runs, with its values from ``named`` (see ``values``)."""
    built = _page_sql(_dialect(), shape, tuple(columns), tuple(author_columns.items()))
    return _bound(built, named)


@functools.lru_cache(maxsize=512)
def _page_sql(
    dialect: str,
    shape: Shape,
    columns: tuple[str, ...],
    author_columns: tuple[tuple[str, str], ...],
) -> tuple[str, tuple[str, ...]]:
    slot = _Slots(dialect)
    branches = []
    for index in range(max(shape.parents, 1)):
        query, sort_columns, parent_key = _branch(slot, shape, index)
        if parent_key is not None:
            query = query.select(parent_key.as_(PARENT))
        query = query.select(*(Field(name, table=_POST) for name in columns))
        if author_columns:
            query = query.join(_AUTHOR).on(_AUTHOR.id == _POST.author_id)
            query = query.select(
                *(Field(column, table=_AUTHOR).as_(alias) for alias, column in author_columns)
            )
        if shape.after:
            query = query.where(
                _beyond(slot, sort_columns, shape.sort_key, "after", backwards=False)
            )
        if shape.before:
            query = query.where(
                _beyond(slot, sort_columns, shape.sort_key, "before", backwards=True)
            )
        for (_, desc), column in zip(shape.sort_key.fields, sort_columns.values(), strict=True):
            ascending = desc == shape.backwards
            query = query.orderby(column, order=Order.asc if ascending else Order.desc)
        branches.append(query.limit(slot("limit")))
    return _sql(_union(branches)), slot.order()


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
    ids = _unique(parent, parent_ids)
    shape = Shape.of(criteria, sort_key, parent=parent, parent_ids=ids, backwards=backwards)
    named = values(visibility, criteria, parent_ids=ids, after=cursor)
    rows = await _run(beyond_statement(shape, named))
    return {row[PARENT] for row in rows} if parent else ({None} if rows else set())


def beyond_statement(shape: Shape, named: Mapping[str, Any]) -> Statement:
    """The statement ``parents_beyond`` runs; the cursor is the ``after`` of ``named``."""
    return _bound(_beyond_sql(_dialect(), shape), named)


@functools.lru_cache(maxsize=256)
def _beyond_sql(dialect: str, shape: Shape) -> tuple[str, tuple[str, ...]]:
    slot = _Slots(dialect)
    branches = []
    for index in range(max(shape.parents, 1)):
        query, sort_columns, parent_key = _branch(slot, shape, index)
        beyond = _beyond(slot, sort_columns, shape.sort_key, "after", backwards=not shape.backwards)
        # The site's list has no parent key: any column says that a row exists.
        found = parent_key if parent_key is not None else list(sort_columns.values())[-1]
        branches.append(query.where(beyond).select(found.as_(PARENT)).limit(slot("one")))
    return _sql(_union(branches)), slot.order()


async def live_counts(
    visibility: Visibility, parent: ParentKind | None, parent_ids: Sequence[int]
) -> dict[int | None, int]:
    """How many visible posts each parent (the site if no parent) has, from the counters.

    Only for lists ``counts_serve`` accepts. One statement: each counter minus the listed
    posts still dated in the future, which it holds but readers do not see yet.
    """
    keys: list[int | None] = [*_unique(parent, parent_ids)] if parent else [None]
    rows = await _run(count_statement(visibility, parent, keys))
    counts = {row["parent_id"]: int(row["live"]) for row in rows}
    # A parent without a counter row never had a listed post.
    return {key: counts.get(key if key is not None else 0, 0) for key in keys}


def count_statement(
    visibility: Visibility, parent: ParentKind | None, keys: Sequence[int | None]
) -> Statement:
    """The statement ``live_counts`` runs for ``keys`` (``[None]``: the site)."""
    ids = [key if key is not None else 0 for key in keys]
    named = {**values(visibility, PostCriteria(), parent_ids=ids), "scope": parent or "site"}
    return _bound(_count_sql(_dialect(), parent, len(ids)), named)


@functools.lru_cache(maxsize=64)
def _count_sql(
    dialect: str, parent: ParentKind | None, parents: int
) -> tuple[str, tuple[str, ...]]:
    slot = _Slots(dialect)
    query_class: type[Query] = _client().query_class
    source = _LINK if parent == "tag" else _POST
    future = (
        query_class.from_(source)
        .select(Count("*"))
        .where((source.listed == slot("listed")) & (source.published_at > slot("now")))
    )
    if parent is not None:
        owner = _LINK.tag_id if parent == "tag" else _POST.author_id
        future = future.where(owner == _COUNTS.parent_id)
    counted = (
        query_class.from_(_COUNTS)
        .select(_COUNTS.parent_id, (_COUNTS.listed - future).as_("live"))
        .where(_COUNTS.scope == slot("scope"))
        .where(_COUNTS.parent_id.isin([slot(f"parent{i}") for i in range(parents)]))
    )
    return _sql(counted), slot.order()


def _unique(parent: ParentKind | None, parent_ids: Sequence[int]) -> list[int]:
    # Each parent once, in the order given; the site's list has none.
    return list(dict.fromkeys(parent_ids)) if parent else []


def _union(branches: Sequence[QueryBuilder]) -> QueryBuilder:
    if len(branches) == 1:
        return branches[0]
    # Each branch is wrapped (SELECT * FROM (<branch>)), so that its ORDER BY and LIMIT stay
    # its own: SQLite accepts no parenthesised branch in a compound statement.
    query_class: type[Query] = _client().query_class
    wrapped = [query_class.from_(b, wrap_set_operation_queries=False).select("*") for b in branches]
    first, second, *rest = wrapped
    union = first.union_all(second)
    for branch in rest:
        union = union.union_all(branch)
    return query_class.from_(union).select("*")


def _sql(query: QueryBuilder) -> str:
    sql: str = query.get_sql(_client().query_class.SQL_CONTEXT)
    return sql


async def _run(statement: Statement) -> list[Row]:
    sql, params = statement
    rows: list[Row] = await _client().execute_query_dict(sql, params)
    return rows
