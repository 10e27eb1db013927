"""Running a plan: read each position's rows in one statement, then build the response.

Arguments are read per request with graphql-core's ``get_argument_values`` (the coercion the
standard executor applies), a filter becomes the resolver's own ``PostFilter``
(``declarations.input_object``), and they are checked by the same code as the resolvers
(``PageRequest.from_args``, ``post_lookup``, ``check_slug``, ``check_criteria``). Whatever
the standard executor would answer with an error, or with anything but the data built here,
raises :class:`~cms.graphql.compiled.sql.Unplannable`: the caller then hands the whole
operation to the standard executor, which produces the exact error.

Like the resolvers and loaders, loading records the content it read (``cms.cache.tracking``),
so that a cached response is purged by the same changes whichever path built it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from graphql import GraphQLInputObjectType, get_named_type
from graphql.execution.values import get_argument_values

from cms.cache.tracking import (
    AUTHORS_LIST,
    POSTS_LIST,
    TAGS_LIST,
    author_key,
    author_posts_key,
    record,
    record_authors,
    record_posts,
    record_tags,
    tag_key,
    tag_posts_key,
)
from cms.errors import InvalidInput
from cms.graphql.compiled.plan import (
    AUTHOR,
    Children,
    Connection,
    Joined,
    Loaded,
    Lookup,
    ObjectNode,
    Page,
    PostCount,
    Row,
)
from cms.graphql.compiled.serialize import python_converter
from cms.graphql.compiled.sql import TemplateCache, Unplannable
from cms.graphql.compiled.statements import PostList, Statements
from cms.graphql.declarations import input_object
from cms.graphql.posts.inputs import PostFilter
from cms.graphql.posts.lookup import post_lookup
from cms.graphql.tags.queries import BY_NAME
from cms.models import Author, Post, Tag
from cms.services.inputs import check_slug
from cms.services.pagination import PageRequest, PageSpec
from cms.services.posts import PostCriteria, check_criteria, sort_key_for

__all__ = ["execute_plan"]


async def execute_plan(plan: ObjectNode, executor: Any, templates: TemplateCache) -> dict[str, Any]:
    """The response data of ``plan`` for the request ``executor`` was built for."""
    run = _Run(executor, templates)
    root: Row = {}
    try:
        await run.load(plan, [root])
    except InvalidInput as exc:
        raise Unplannable(f"the standard executor reports {exc.code}") from exc
    return plan.build(root, run.loaded)


class _Run:
    def __init__(self, executor: Any, templates: TemplateCache) -> None:
        context = executor.context_value
        self.settings = context.settings
        self.visibility = context.visibility
        self.variables = executor.variable_values
        self.statements = Statements(context.visibility, templates)
        self.loaded = Loaded()

    async def load(self, node: ObjectNode, rows: list[Row]) -> None:
        """Load whatever ``node``'s fields need beyond ``rows`` (every row of the node)."""
        if not rows:
            return
        if node.relations:
            # Independent statements: on PostgreSQL they run side by side on two connections.
            relations = list(node.relations.values())
            ids = _ids(rows)
            found = await asyncio.gather(
                *(
                    (self.statements.sections if r.name == "sections" else self.statements.tags)(
                        ids, r.columns
                    )
                    for r in relations
                )
            )
            for relation, children in zip(relations, found, strict=True):
                if relation.name == "tags":
                    record_tags({tag["id"] for tags in children.values() for tag in tags})
                self.loaded[relation] = children
        for field in node.fields:
            if isinstance(field, Joined):
                authors = list({row[AUTHOR]["id"]: row[AUTHOR] for row in rows}.values())
                record_authors(author["id"] for author in authors)
                await self.load(field.node, authors)
            elif isinstance(field, Children):
                children = self.loaded[field.relation]
                await self.load(field.node, [c for i in _ids(rows) for c in children.get(i, ())])
            elif isinstance(field, PostCount):
                ids = _ids(rows)
                record(*(tag_posts_key(tag_id) for tag_id in ids))
                self.loaded[field] = await self.statements.post_counts_by_tag(ids)
            elif isinstance(field, Lookup):
                await self.lookup(field)
            elif isinstance(field, Connection):
                await self.connection(field, rows)

    def arguments(self, field: Lookup | Connection) -> dict[str, Any]:
        return get_argument_values(field.definition, field.node_ast, self.variables)

    async def lookup(self, field: Lookup) -> None:
        args = self.arguments(field)
        node = field.node
        columns = tuple(sorted(node.columns))
        row: Row | None
        if field.kind == "post":
            row = await self.post(args.get("id"), args.get("slug"), node)
        else:
            slug = args["slug"]
            check_slug(slug, field="slug")
            model = Tag if field.kind == "tag" else Author
            row = await self.statements.by_slug(model, columns, slug)
            if row is None:
                record(TAGS_LIST if field.kind == "tag" else AUTHORS_LIST)
            else:
                record(tag_key(row["id"]) if field.kind == "tag" else author_key(row["id"]))
        self.loaded[field] = row
        if row is not None:
            await self.load(node, [row])

    async def post(self, global_id: str | None, slug: str | None, node: ObjectNode) -> Row | None:
        # The `post` resolver's own checks: InvalidInput hands the request to the resolver.
        asked = post_lookup(global_id, slug)
        by = {"id": asked.post_id} if asked.post_id is not None else {"slug": asked.slug}
        columns = tuple(sorted(node.columns))
        authors = tuple(sorted(node.author_columns()))
        row = await self.statements.post(columns, authors, **by)
        if row is None:
            record(POSTS_LIST)
            return None
        _split_author(row, authors)
        record_posts((row["id"],))
        return dict(row)

    async def connection(self, field: Connection, rows: list[Row]) -> None:
        if field.kind == "posts":
            pages = await self.post_pages(field, rows)
        else:
            pages = {None: await self.name_page(field)}
        self.loaded[field] = pages
        page_rows = [row for page in pages.values() for row in page.rows]
        for node in field.nodes():
            await self.load(node, page_rows)

    def criteria(self, field: Connection, given: dict[str, Any] | None) -> PostCriteria:
        if given is None:
            return PostCriteria()
        filter_type = get_named_type(field.definition.args["filter"].type)
        post_filter = input_object(cast(GraphQLInputObjectType, filter_type), given)
        if not isinstance(post_filter, PostFilter):
            raise Unplannable(f"{filter_type.name} is not a PostFilter")
        criteria = post_filter.to_criteria()
        # The resolver's find_posts makes the same checks; raises InvalidInput.
        check_criteria(criteria)
        return criteria

    async def post_pages(self, field: Connection, rows: list[Row]) -> dict[int | None, Page]:
        args = self.arguments(field)
        sort_key = sort_key_for(args["orderBy"], self.visibility)
        request = PageRequest.from_args(
            first=args["first"],
            after=args["after"],
            last=args["last"],
            before=args["before"],
            default_size=self.settings.default_page_size,
            max_size=self.settings.max_page_size,
            sort_key=sort_key,
        )
        criteria = self.criteria(field, args["filter"])
        page = PageSpec.of(request)
        parent = field.parent
        parent_ids = _ids(rows) if parent else []
        if parent is None:
            record(POSTS_LIST)
        else:
            keys = tag_posts_key if parent == "tag" else author_posts_key
            record(*(keys(parent_id) for parent_id in parent_ids))
        nodes = field.nodes()
        columns = set().union(*(n.columns for n in nodes)) | {"id"}
        columns |= {name for name, _ in sort_key.fields}
        authors = set().union(*(n.author_columns() for n in nodes))
        listing = PostList(criteria, sort_key, page, tuple(sorted(columns)), tuple(sorted(authors)))
        keys_of_pages: list[int | None] = list(dict.fromkeys(parent_ids)) if parent else [None]
        grouped: dict[int | None, list[Row]] = {}
        if page.size > 0:
            grouped = await self.statements.post_pages(listing, parent, parent_ids)
        cursor = page.before if page.backwards else page.after
        beyond: set[int | None] = set()
        if cursor is not None and field.wants_page_info:
            beyond = await self.statements.posts_beyond(listing, parent, parent_ids, cursor)
        totals: dict[int | None, int] = {}
        if field.wants_total:
            totals = await self.statements.post_totals(criteria, parent, parent_ids)
        cursor_fields = [(name, python_converter(Post, name)) for name, _ in sort_key.fields]
        pages: dict[int | None, Page] = {}
        for key in keys_of_pages:
            found = grouped.get(key, [])
            more = len(found) > page.size
            found = found[: page.size]
            if page.backwards:
                found.reverse()
            for row in found:
                _split_author(row, listing.author_columns)
            record_posts(row["id"] for row in found)
            # Forward, "more" is what follows; backwards mirrors it (as post_pages._page_of).
            has_next, has_previous = (
                (key in beyond, more) if page.backwards else (more, key in beyond)
            )
            pages[key] = Page(found, has_next, has_previous, cursor_fields, totals.get(key))
        return pages

    async def name_page(self, field: Connection) -> Page:
        args = self.arguments(field)
        request = PageRequest.from_args(
            first=args["first"],
            after=args["after"],
            last=None,
            before=None,
            default_size=self.settings.default_page_size,
            max_size=self.settings.max_page_size,
            sort_key=BY_NAME,
        )
        model = Tag if field.kind == "tags" else Author
        columns = set().union(*(n.columns for n in field.nodes())) | {"id", "name"}
        rows, preceded = await self.statements.name_page(
            model, BY_NAME, tuple(sorted(columns)), request.size, request.after
        )
        more = len(rows) > request.size
        rows = rows[: request.size]
        record(TAGS_LIST if model is Tag else AUTHORS_LIST)
        if model is Tag:
            record_tags(row["id"] for row in rows)
        else:
            record_authors(row["id"] for row in rows)
        total = await self.statements.count_all(model) if field.wants_total else None
        cursor_fields = [(name, python_converter(model, name)) for name, _ in BY_NAME.fields]
        return Page(rows, more, preceded, cursor_fields, total)


def _ids(rows: Sequence[Row]) -> list[int]:
    return list(dict.fromkeys(row["id"] for row in rows))


def _split_author(row: Row, columns: Sequence[str]) -> None:
    """Move the joined author columns of a post row into a row of their own."""
    if columns:
        row[AUTHOR] = {name: row.pop(f"{AUTHOR}.{name}") for name in columns}
