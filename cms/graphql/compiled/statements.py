"""The batched statements of the compiled path, each built by the services' own query code.

Every statement reads rows, never model instances, and serves every parent of one plan
position at once. The querysets mirror what the standard resolvers and loaders run
(``cms.services.post_pages``, ``cms.services.pagination.paginate``, the loaders of
``cms.graphql.loaders``), down to the filters and the ordering, so that a page, a count or
a relation holds exactly the same rows on both paths; the differential tests hold them to it.
They go through :class:`~cms.graphql.compiled.sql.TemplateCache`, so Tortoise builds each
shape once.

Post pages, the rows beyond a cursor and the counts of the lists ``cms.services.post_lists``
serves (every list without slug criteria: the compiled path's readers never see drafts) are
that module's statements, the very ones the standard loaders run.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from cms.graphql.compiled.plan import AUTHOR, ParentKind, Row
from cms.graphql.compiled.sql import TemplateCache, Values, client, pad
from cms.models import Author, Post, PostTag, Section, Tag
from cms.services import post_lists
from cms.services.pagination import CursorValue, PageSpec, SortKey
from cms.services.posts import PostCriteria, find_posts
from cms.services.visibility import Visibility

__all__ = ["PostList", "Statements"]

# How a post row reaches its parent's id (as in cms.services.post_pages).
_PARENT_PATH: dict[ParentKind, str] = {"tag": "tag_links__tag_id", "author": "author_id"}
_PARENT = "parent_key"
_ROW_NUMBER = "row_number_in_parent"
_PLACEHOLDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class PostList:
    """Which page of which posts a connection asks for, with the columns its plan reads."""

    criteria: PostCriteria
    sort_key: SortKey
    page: PageSpec
    columns: tuple[str, ...]
    author_columns: tuple[str, ...]


class Statements:
    """The statements of one request: its visibility, the shared templates, the connection."""

    def __init__(self, visibility: Visibility, templates: TemplateCache) -> None:
        self.visibility = visibility
        # The shape of the visibility rules without their moment, which each statement binds.
        self.visibility_shape = dataclasses.replace(visibility, now=_PLACEHOLDER_TIME)
        self.templates = templates
        self.db = client()

    async def _rows(self, key: tuple[Any, ...], make: Any, values: Values) -> list[Row]:
        sql, params = self.templates.get(key, make, values)
        rows: list[Row] = await self.db.execute_query_dict(sql, params)
        return rows

    def _visible(self, values: Any) -> Visibility:
        return dataclasses.replace(self.visibility_shape, now=values["now"])

    def _criteria_values(self, criteria: PostCriteria) -> dict[str, Any]:
        return {
            "now": self.visibility.now,
            "tag": criteria.tag,
            "tags_any": criteria.tags_any,
            "author": criteria.author,
            "published_after": criteria.published_after,
            "published_before": criteria.published_before,
        }

    def _matching(self, v: Any, criteria: PostCriteria) -> QuerySet[Post]:
        bound = dataclasses.replace(
            criteria,
            tag=v["tag"],
            tags_any=tuple(v["tags_any"]),
            author=v["author"],
            published_after=v["published_after"],
            published_before=v["published_before"],
        )
        return find_posts(self._visible(v), bound)

    def _post_values(self, listing: PostList, queryset: QuerySet[Post], **extra: str) -> Any:
        authors = {f"{AUTHOR}.{name}": f"author__{name}" for name in listing.author_columns}
        return queryset.values(*listing.columns, **authors, **extra)

    async def post_pages(
        self, listing: PostList, parent: ParentKind | None, parent_ids: Sequence[int]
    ) -> dict[int | None, list[Row]]:
        """Up to ``size + 1`` rows of each parent's page (of the root list if no parent)."""
        page, sort_key = listing.page, listing.sort_key
        if post_lists.serves(self.visibility, listing.criteria):
            return await post_lists.pages(
                self.visibility,
                listing.criteria,
                sort_key,
                page,
                parent=parent,
                parent_ids=sorted(set(parent_ids)),
                columns=listing.columns,
                author_columns={f"{AUTHOR}.{name}": name for name in listing.author_columns},
            )
        ids = pad(sorted(set(parent_ids))) if parent else []
        windowed = len(ids) > 1
        values: dict[str, Any] = {
            **self._criteria_values(listing.criteria),
            "after": page.after,
            "before": page.before,
            "parents": ids,
            "limit": None if windowed else page.size + 1,
        }

        def make(v: Any) -> Any:
            queryset = sort_key.prepare(self._matching(v, listing.criteria))
            if v["after"] is not None:
                queryset = queryset.filter(sort_key.beyond(v["after"], backwards=False))
            if v["before"] is not None:
                queryset = queryset.filter(sort_key.beyond(v["before"], backwards=True))
            extra: dict[str, str] = {}
            if parent is not None:
                queryset = queryset.filter(**{f"{_PARENT_PATH[parent]}__in": v["parents"]})
                extra[_PARENT] = _PARENT_PATH[parent]
            if not windowed:
                order = sort_key.order_by(reverse=page.backwards)
                queryset = queryset.order_by(*order).limit(v["limit"])
            return self._post_values(listing, queryset, **extra)

        key: tuple[Any, ...] = (
            "post_pages",
            parent,
            windowed,
            sort_key,
            page.backwards,
            self.visibility_shape,
        )
        key += (listing.criteria.tag_id, listing.criteria.author_id)
        key += (listing.columns, listing.author_columns)
        sql, params = self.templates.get(key, make, values)
        if windowed:
            sql = self._window(sql, sort_key, backwards=page.backwards, size=page.size)
        rows: list[Row] = await self.db.execute_query_dict(sql, params)
        grouped: dict[int | None, list[Row]] = {pid: [] for pid in ids} if parent else {None: []}
        for row in rows:
            grouped[row.pop(_PARENT) if parent else None].append(row)
        return grouped

    @staticmethod
    def _window(inner: str, sort_key: SortKey, *, backwards: bool, size: int) -> str:
        order = ", ".join(
            f'q."{name}" {"DESC" if desc != backwards else "ASC"}' for name, desc in sort_key.fields
        )
        # Only trusted text is formatted in: column names of the model and an int.
        return (
            f'SELECT * FROM (SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q."{_PARENT}" '  # noqa: S608
            f'ORDER BY {order}) AS "{_ROW_NUMBER}" FROM ({inner}) AS q) AS w '
            f'WHERE w."{_ROW_NUMBER}" <= {int(size) + 1:d} '
            f'ORDER BY w."{_PARENT}", w."{_ROW_NUMBER}"'
        )

    async def posts_beyond(
        self,
        listing: PostList,
        parent: ParentKind | None,
        parent_ids: Sequence[int],
        cursor: Sequence[CursorValue],
    ) -> set[int | None]:
        """The parents with rows on the far side of the page's starting cursor."""
        page, sort_key = listing.page, listing.sort_key
        if post_lists.serves(self.visibility, listing.criteria):
            return await post_lists.parents_beyond(
                self.visibility,
                listing.criteria,
                sort_key,
                cursor,
                backwards=page.backwards,
                parent=parent,
                parent_ids=sorted(set(parent_ids)),
            )
        ids = pad(sorted(set(parent_ids))) if parent else []
        values = {**self._criteria_values(listing.criteria), "cursor": cursor, "parents": ids}

        def make(v: Any) -> Any:
            queryset = sort_key.prepare(self._matching(v, listing.criteria)).filter(
                sort_key.beyond(v["cursor"], backwards=not page.backwards)
            )
            if parent is None:
                return queryset.limit(1).values("id")
            path = _PARENT_PATH[parent]
            return (
                queryset.filter(**{f"{path}__in": v["parents"]})
                .distinct()
                .values(**{_PARENT: path})
            )

        key: tuple[Any, ...] = (
            "posts_beyond",
            parent,
            sort_key,
            page.backwards,
            self.visibility_shape,
        )
        key += (listing.criteria.tag_id, listing.criteria.author_id)
        rows = await self._rows(key, make, values)
        if parent is None:
            return {None} if rows else set()
        return {int(row[_PARENT]) for row in rows}

    async def post_totals(
        self, criteria: PostCriteria, parent: ParentKind | None, parent_ids: Sequence[int]
    ) -> dict[int | None, int]:
        """``totalCount`` of the root list or of each parent's list (as count_posts counts)."""
        if post_lists.counts_serve(self.visibility, criteria):
            return await post_lists.live_counts(self.visibility, parent, sorted(set(parent_ids)))
        ids = pad(sorted(set(parent_ids))) if parent else []
        values = {**self._criteria_values(criteria), "parents": ids}

        def make(v: Any) -> Any:
            matching = self._matching(v, criteria)
            if parent is None:
                return matching.count()
            if parent == "tag":
                # Counted from the link table: the subquery keeps a post once per tag.
                links = PostTag.filter(
                    tag_id__in=v["parents"], post_id__in=Subquery(matching.values("id"))
                )
                return (
                    links.annotate(count=Count("id"))
                    .group_by("tag_id")
                    .values(**{_PARENT: "tag_id", "count": "count"})
                )
            return (
                matching.filter(author_id__in=v["parents"])
                .annotate(count=Count("id"))
                .group_by("author_id")
                .values(**{_PARENT: "author_id", "count": "count"})
            )

        key = ("post_totals", parent, self.visibility_shape, criteria.tag_id, criteria.author_id)
        rows = await self._rows(key, make, values)
        if parent is None:
            return {None: int(next(iter(rows[0].values())))}
        counts = {int(row[_PARENT]): int(row["count"]) for row in rows}
        return {pid: counts.get(pid, 0) for pid in ids}

    async def post_counts_by_tag(self, tag_ids: Sequence[int]) -> dict[int, int]:
        """``Tag.postCount`` for many tags (as PostCountByTagIdLoader counts)."""
        if post_lists.counts_serve(self.visibility, PostCriteria()):
            counted = await post_lists.live_counts(self.visibility, "tag", sorted(set(tag_ids)))
            return {tag_id: count for tag_id, count in counted.items() if tag_id is not None}

        def make(v: Any) -> Any:
            visible = self._visible(v)
            return (
                PostTag.filter(visible.post_filter("post__"), tag_id__in=v["tags"])
                .annotate(count=Count("id"))
                .group_by("tag_id")
                .values("tag_id", "count")
            )

        values: dict[str, Any] = {"now": self.visibility.now, "tags": pad(sorted(set(tag_ids)))}
        rows = await self._rows(("post_counts", self.visibility_shape), make, values)
        return {int(row["tag_id"]): int(row["count"]) for row in rows}

    async def post(self, columns: tuple[str, ...], authors: tuple[str, ...], **by: Any) -> Any:
        """One visible post by ``id`` or ``slug`` (as ``get_post`` finds it), or None."""
        name, value = next(iter(by.items()))
        listing = PostList(PostCriteria(), SortKey((("id", False),)), PageSpec(1), columns, authors)

        def make(v: Any) -> Any:
            queryset = self._visible(v).posts().filter(**{name: v[name]}).limit(1)
            return self._post_values(listing, queryset)

        values: dict[str, Any] = {"now": self.visibility.now, name: value}
        key = ("post", name, self.visibility_shape, columns, authors)
        rows = await self._rows(key, make, values)
        return rows[0] if rows else None

    async def by_slug(self, model: type[Tag | Author], columns: tuple[str, ...], slug: str) -> Any:
        """A tag or an author by slug (as ``get_or_none(slug=...)`` finds it), or None."""

        def make(v: Any) -> Any:
            return model.filter(slug=v["slug"]).limit(1).values(*columns)

        rows = await self._rows(("by_slug", model, columns), make, {"slug": slug})
        return rows[0] if rows else None

    async def name_page(
        self,
        model: type[Tag | Author],
        sort_key: SortKey,
        columns: tuple[str, ...],
        size: int,
        after: Sequence[CursorValue] | None,
    ) -> tuple[list[Row], bool]:
        """``size + 1`` rows of all tags or authors by name, and whether rows precede them."""
        rows: list[Row] = []
        if size > 0:

            def make(v: Any) -> Any:
                queryset = model.all()
                if v["after"] is not None:
                    queryset = queryset.filter(sort_key.beyond(v["after"], backwards=False))
                return queryset.order_by(*sort_key.order_by()).limit(v["limit"]).values(*columns)

            values = {"after": after, "limit": size + 1}
            rows = await self._rows(("name_page", model, sort_key, columns), make, values)
        preceded = False
        if after is not None:

            def make_beyond(v: Any) -> Any:
                beyond = sort_key.beyond(v["after"], backwards=True)
                return model.all().filter(beyond).limit(1).values("id")

            key = ("name_beyond", model, sort_key)
            preceded = bool(await self._rows(key, make_beyond, {"after": after}))
        return rows, preceded

    async def count_all(self, model: type[Tag | Author]) -> int:
        rows = await self._rows(("count_all", model), lambda v: model.all().count(), {})
        return int(next(iter(rows[0].values())))

    async def sections(self, post_ids: Sequence[int], columns: set[str]) -> dict[int, list[Row]]:
        """Each post's sections in reading order (as SectionsByPostIdLoader reads them)."""
        names = tuple(sorted(columns | {"post_id"}))

        def make(v: Any) -> Any:
            ordered = Section.filter(post_id__in=v["posts"]).order_by("post_id", "position")
            return ordered.values(*names)

        values = {"posts": pad(sorted(set(post_ids)))}
        grouped: defaultdict[int, list[Row]] = defaultdict(list)
        for row in await self._rows(("sections", names), make, values):
            grouped[row["post_id"]].append(row)
        return grouped

    async def tags(self, post_ids: Sequence[int], columns: set[str]) -> dict[int, list[Row]]:
        """Each post's tags by name, then id (sorted here, as TagsByPostIdLoader sorts them:
        PostgreSQL's collation may order names differently from Python)."""
        names = tuple(sorted(columns | {"id", "name"}))

        def make(v: Any) -> Any:
            links = PostTag.filter(post_id__in=v["posts"])
            return links.values("post_id", **{name: f"tag__{name}" for name in names})

        values = {"posts": pad(sorted(set(post_ids)))}
        rows = await self._rows(("tags", names), make, values)
        rows.sort(key=lambda row: (row["name"], row["id"]))
        grouped: defaultdict[int, list[Row]] = defaultdict(list)
        for row in rows:
            grouped[row["post_id"]].append(row)
        return grouped
