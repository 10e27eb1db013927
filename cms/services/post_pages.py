"""One page of post lists for many parents at once: every tag's (or author's) page in one statement.

A query like ``tags { posts(first: 5) { ... } }`` asks for one page per tag. Reading them one by
one costs a statement per tag; here every page comes from one windowed statement::

    SELECT * FROM (
        SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q.parent_key ORDER BY <sort key>) AS rn
        FROM (<the visible posts matching the criteria, joined to their parents>) AS q
    ) AS w WHERE w.rn <= <page size + 1>

Window functions exist on SQLite >= 3.25 and on PostgreSQL. The inner statement is built by
Tortoise from the same ``find_posts`` filters (and so the same visibility rules) as a single
list; only the window around it is written here. Rows come back as plain dicts of Python values:
building model instances for rows that are only copied into GraphQL objects is wasted work.

A page has the same semantics as ``cms.services.pagination.paginate``: ``size + 1`` rows to
learn whether more follow, and, when the page starts at a cursor, whether rows precede it.

Lists that ``cms.services.post_lists`` serves (readers who see only live posts, no slug
criteria) are read there, from index ranges and counters; the statements written here are the
general ones, correct for every viewer (editors see drafts) and every criterion, at the cost
of the matching posts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.fields.base import Field
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from cms.models import Post, PostTag
from cms.services import post_lists
from cms.services.pagination import PageSpec, SortKey, encode_cursor
from cms.services.post_lists import PARENT, Row
from cms.services.post_lists import ParentKind as ParentKind  # what the callers import from here
from cms.services.posts import PostCriteria, check_criteria, find_posts
from cms.services.visibility import Visibility

# How a post row reaches its parent's id, as a Tortoise field path from Post.
PARENT_PATH: dict[ParentKind, str] = {"tag": "tag_links__tag_id", "author": "author_id"}
_ROW_NUMBER = "row_number_in_parent"


@dataclass
class RowPage:
    """One page of post rows (dicts keyed by field name) with Relay's page info."""

    rows: list[Row]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _columns() -> list[tuple[str, Field[Any]]]:
    # Every column of the post table (foreign-key ids included), so that whatever reads a
    # row finds every attribute a Post instance would have had.
    fields = Post._meta.fields_map
    names = dict.fromkeys(
        [*Post._meta.fields_db_projection, *(f"{fk}_id" for fk in sorted(Post._meta.fk_fields))]
    )
    return [(name, fields[name]) for name in names]


def _computed_converters(sort_key: SortKey) -> list[tuple[str, Callable[[Any], Any]]]:
    return [(name, _computed_value) for name, _ in sort_key.computed]


def _computed_value(value: Any) -> Any:
    # SQLite hands computed timestamps back as text (every computed sort column is one).
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _windowed(
    visibility: Visibility, criteria: PostCriteria, sort_key: SortKey, page: PageSpec
) -> QuerySet[Post]:
    queryset = sort_key.prepare(find_posts(visibility, criteria))
    if page.after is not None:
        queryset = queryset.filter(sort_key.beyond(page.after, backwards=False))
    if page.before is not None:
        queryset = queryset.filter(sort_key.beyond(page.before, backwards=True))
    return queryset


async def fetch_post_pages(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    page: PageSpec,
    *,
    parent: ParentKind,
    parent_ids: Sequence[int],
) -> dict[int, RowPage]:
    """The page of each parent's visible posts matching ``criteria``, in at most two statements.

    The second statement runs only when the page starts from a cursor, to learn which parents
    have rows on the other side of it.
    """
    if not parent_ids:
        return {}
    ids = sorted(set(parent_ids))
    if post_lists.serves(visibility, criteria):
        listed = await _listed_pages(visibility, criteria, sort_key, page, parent, ids)
        return {key: rows for key, rows in listed.items() if key is not None}
    parent_path = PARENT_PATH[parent]
    columns = _columns()
    grouped: dict[int, list[Row]] = {parent_id: [] for parent_id in ids}
    if page.size > 0 and len(ids) == 1:
        # One parent (`tag(slug:) { posts }`): a plain ORDER BY ... LIMIT lets the database
        # stop early, where the window would number every post of the parent first.
        single = (
            _windowed(visibility, criteria, sort_key, page)
            .filter(**{f"{parent_path}__in": ids})
            .order_by(*sort_key.order_by(reverse=page.backwards))
            .limit(page.size + 1)
            .values(*(name for name, _ in columns), *(name for name, _ in sort_key.computed))
        )
        rows = await single
        for row in rows:
            for name, convert in _computed_converters(sort_key):
                row[name] = convert(row[name])
        grouped[ids[0]] = rows
    elif page.size > 0:
        inner = (
            _windowed(visibility, criteria, sort_key, page)
            .filter(**{f"{parent_path}__in": ids})
            .values(
                *(name for name, _ in columns),
                *(name for name, _ in sort_key.computed),
                **{PARENT: parent_path},
            )
        )
        # ValuesQuery.sql() builds the statement; its parameters come with the built query.
        inner.sql()
        inner_sql, params = inner.query.get_parameterized_sql()
        order = ", ".join(
            f'q."{name}" {"DESC" if desc != page.backwards else "ASC"}'
            for name, desc in sort_key.fields
        )
        # Only trusted text is formatted in: column names from the model, an int limit.
        sql = (
            f'SELECT * FROM (SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q."{PARENT}" '  # noqa: S608
            f'ORDER BY {order}) AS "{_ROW_NUMBER}" FROM ({inner_sql}) AS q) AS w '
            f'WHERE w."{_ROW_NUMBER}" <= {int(page.size) + 1:d} '
            f'ORDER BY w."{PARENT}", w."{_ROW_NUMBER}"'
        )
        converters = [
            *((name, field.to_python_value) for name, field in columns),
            *_computed_converters(sort_key),
        ]
        for raw in await Post._meta.db.execute_query_dict(sql, params):
            grouped[int(raw[PARENT])].append(_convert(raw, converters))

    cursor_before_window = page.before if page.backwards else page.after
    preceded: set[int] = set()
    if cursor_before_window is not None:
        beyond = sort_key.prepare(find_posts(visibility, criteria)).filter(
            sort_key.beyond(cursor_before_window, backwards=not page.backwards),
            **{f"{parent_path}__in": ids},
        )
        found: list[Any] = await beyond.distinct().values_list(parent_path, flat=True)
        preceded = {int(value) for value in found}
    return {
        parent_id: _page_of(rows, sort_key, page, beyond_window=parent_id in preceded)
        for parent_id, rows in grouped.items()
    }


async def _listed_pages(
    visibility: Visibility,
    criteria: PostCriteria,
    sort_key: SortKey,
    page: PageSpec,
    parent: ParentKind | None,
    parent_ids: list[int],
) -> dict[int | None, RowPage]:
    """``fetch_post_pages`` (or, without a parent, ``fetch_post_page``) from post_lists."""
    # The checks find_posts makes on the general path: a date PostgreSQL cannot hold must be
    # BAD_USER_INPUT here too, not a driver error.
    check_criteria(criteria)
    columns = _columns()
    keys: list[int | None] = list(parent_ids) if parent else [None]
    found: dict[int | None, list[Row]] = {key: [] for key in keys}
    if page.size > 0:
        found = await post_lists.pages(
            visibility,
            criteria,
            sort_key,
            page,
            parent=parent,
            parent_ids=parent_ids,
            columns=[name for name, _ in columns],
        )
    converters = [(name, field.to_python_value) for name, field in columns]
    cursor_before_window = page.before if page.backwards else page.after
    preceded: set[int | None] = set()
    if cursor_before_window is not None:
        preceded = await post_lists.parents_beyond(
            visibility,
            criteria,
            sort_key,
            cursor_before_window,
            backwards=page.backwards,
            parent=parent,
            parent_ids=parent_ids,
        )
    return {
        key: _page_of(
            [_convert(row, converters) for row in rows],
            sort_key,
            page,
            beyond_window=key in preceded,
        )
        for key, rows in found.items()
    }


async def fetch_post_page(
    visibility: Visibility, criteria: PostCriteria, sort_key: SortKey, page: PageSpec
) -> RowPage:
    """One page of the visible posts matching ``criteria`` (no parent), as rows."""
    if post_lists.serves(visibility, criteria):
        pages = await _listed_pages(visibility, criteria, sort_key, page, None, [])
        return pages[None]
    rows: list[Row] = []
    if page.size > 0:
        rows = await (
            _windowed(visibility, criteria, sort_key, page)
            .order_by(*sort_key.order_by(reverse=page.backwards))
            .limit(page.size + 1)
            .values(*(name for name, _ in _columns()), *(name for name, _ in sort_key.computed))
        )
        for row in rows:
            for name, convert in _computed_converters(sort_key):
                row[name] = convert(row[name])
    cursor_before_window = page.before if page.backwards else page.after
    beyond_window = False
    if cursor_before_window is not None:
        beyond_window = await (
            sort_key.prepare(find_posts(visibility, criteria))
            .filter(sort_key.beyond(cursor_before_window, backwards=not page.backwards))
            .exists()
        )
    return _page_of(rows, sort_key, page, beyond_window=beyond_window)


async def count_posts(
    visibility: Visibility,
    criteria: PostCriteria,
    *,
    parent: ParentKind,
    parent_ids: Sequence[int],
) -> dict[int, int]:
    """How many visible posts matching ``criteria`` each parent has, in one statement."""
    ids = sorted(set(parent_ids))
    if not ids:
        return {}
    if post_lists.counts_serve(visibility, criteria):
        counted = await post_lists.live_counts(visibility, parent, ids)
        return {parent_id: counted[parent_id] for parent_id in ids}
    matching = find_posts(visibility, criteria)
    rows: list[dict[str, Any]]
    if parent == "tag":
        # Counted from the link table: the subquery keeps a post once per tag it carries.
        rows = (
            await PostTag.filter(tag_id__in=ids, post_id__in=Subquery(matching.values("id")))
            .annotate(count=Count("id"))
            .group_by("tag_id")
            .values(parent_key="tag_id", count="count")
        )
    else:
        rows = (
            await matching.filter(author_id__in=ids)
            .annotate(count=Count("id"))
            .group_by("author_id")
            .values(parent_key="author_id", count="count")
        )
    counts = {int(row[PARENT]): int(row["count"]) for row in rows}
    return {parent_id: counts.get(parent_id, 0) for parent_id in ids}


async def count_all_posts(visibility: Visibility, criteria: PostCriteria) -> int:
    """How many visible posts match ``criteria`` (the root list's ``totalCount``)."""
    if post_lists.counts_serve(visibility, criteria):
        return (await post_lists.live_counts(visibility, None, []))[None]
    return await find_posts(visibility, criteria).count()


def _convert(raw: dict[str, Any], converters: Iterable[tuple[str, Callable[[Any], Any]]]) -> Row:
    return {name: convert(raw[name]) for name, convert in converters}


def _page_of(rows: list[Row], sort_key: SortKey, page: PageSpec, *, beyond_window: bool) -> RowPage:
    more = len(rows) > page.size
    rows = rows[: page.size]
    if page.backwards:
        rows.reverse()
    # Forward: "more" is what follows and the cursor says what precedes; backwards mirrors it.
    has_next, has_previous = (beyond_window, more) if page.backwards else (more, beyond_window)
    names = [name for name, _ in sort_key.fields]
    return RowPage(
        rows=rows,
        cursors=[encode_cursor([row[name] for name in names]) for row in rows],
        has_next_page=has_next,
        has_previous_page=has_previous,
    )
