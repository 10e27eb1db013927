"""Plans: what a validated operation loads and how each response object is built from rows.

A plan is a tree that mirrors the operation after fragments, aliases, repeated keys and
``@skip``/``@include`` have been resolved (by graphql-core's own field collection, so the
response keys come out in the standard executor's order). Each :class:`ObjectNode` stands for
*every* object at one position of the response (all the posts of a page, all their authors),
so that the executor loads each relation once per position, for all parents together.

Building is the second half of a request: the executor has put every statement's rows in
:class:`Loaded`, keyed by the node that asked for them, and each node turns rows into the
response's dicts. Nothing here runs SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import FieldNode, GraphQLField

from cms.graphql.compiled.serialize import Converter, cursor_of, identity
from cms.graphql.declarations import (
    ConnectionKind,
    Derived,
    LookupKind,
    ParentKind,
    RelationName,
)

__all__ = [
    "AUTHOR",
    "Children",
    "Column",
    "Computed",
    "Connection",
    "ConnectionKind",
    "Const",
    "Edges",
    "Field",
    "Joined",
    "Loaded",
    "Lookup",
    "LookupKind",
    "ObjectNode",
    "Page",
    "PageInfo",
    "ParentKind",
    "PostCount",
    "Relation",
    "Typename",
]

Row = dict[str, Any]
# Where a post row keeps the columns of its author, joined into the same statement.
AUTHOR = "@author"


class Loaded(dict[object, Any]):
    """Rows of one request, keyed by the plan node they were loaded for."""


@dataclass(frozen=True)
class Const:
    """A value known when planning: ``__typename`` inside connections, edges and page infos."""

    value: str


@dataclass(eq=False)
class Page:
    """One page of a connection: rows in order, Relay's flags, and how to make cursors."""

    rows: list[Row]
    has_next_page: bool
    has_previous_page: bool
    cursor_fields: Sequence[tuple[str, Converter]]
    total: int | None = None
    _cursors: list[str] | None = None

    def cursors(self) -> list[str]:
        if self._cursors is None:
            self._cursors = [cursor_of(row, self.cursor_fields) for row in self.rows]
        return self._cursors


class Field:
    """One response key of an object: ``build`` gives its value for one row."""

    key: str

    def build(self, row: Row, loaded: Loaded) -> Any:
        raise NotImplementedError


@dataclass(eq=False)
class Typename(Field):
    key: str
    name: str

    def build(self, row: Row, loaded: Loaded) -> Any:
        return self.name


@dataclass(eq=False)
class Column(Field):
    """One column of the row, converted: a stored value, or a global id made from ``id``."""

    key: str
    column: str
    convert: Converter

    def build(self, row: Row, loaded: Loaded) -> Any:
        return self.convert(row[self.column])


@dataclass(eq=False)
class Relation:
    """Rows hanging off many parents (a post's sections or tags), loaded once per node."""

    name: RelationName
    columns: set[str] = field(default_factory=set)


@dataclass(eq=False)
class Computed(Field):
    """A declared :class:`~cms.graphql.declarations.Derived` value of the row (and of the rows
    of one of its relations)."""

    key: str
    derived: Derived
    # The model's Python value of each of derived.columns, from the driver's.
    converters: tuple[Converter, ...]
    relation: Relation | None

    def build(self, row: Row, loaded: Loaded) -> Any:
        columns = zip(self.derived.columns, self.converters, strict=True)
        values = [convert(row[column]) for column, convert in columns]
        if self.relation is None:
            return self.derived.compute(*values)
        return self.derived.compute(*values, loaded[self.relation].get(row["id"], ()))


@dataclass(eq=False)
class ObjectNode:
    """Every object of one type at one position of the response."""

    type_name: str
    fields: list[Field] = field(default_factory=list)
    columns: set[str] = field(default_factory=lambda: {"id"})
    relations: dict[str, Relation] = field(default_factory=dict)

    _builder: Callable[[Row, Loaded], dict[str, Any]] | None = None

    def build(self, row: Row, loaded: Loaded) -> dict[str, Any]:
        builder = self._builder or self._compile()
        return builder(row, loaded)

    def _compile(self) -> Callable[[Row, Loaded], dict[str, Any]]:
        # Building is most of the compiled path's Python time: objects made only of stored
        # columns (authors, tags, sections, most of the time) become one dict comprehension
        # over their row, without a call per field.
        fields = self.fields
        builder: Callable[[Row, Loaded], dict[str, Any]]
        if all(isinstance(f, Column) and f.convert is identity for f in fields):
            pairs = tuple((f.key, cast(Column, f).column) for f in fields)

            def builder(row: Row, loaded: Loaded) -> dict[str, Any]:
                return {key: row[column] for key, column in pairs}

        else:
            getters = tuple((f.key, f.build) for f in fields)

            def builder(row: Row, loaded: Loaded) -> dict[str, Any]:
                return {key: get(row, loaded) for key, get in getters}

        self._builder = builder
        return builder

    def relation(self, name: RelationName) -> Relation:
        if name not in self.relations:
            self.relations[name] = Relation(name)
        return self.relations[name]

    def author_columns(self) -> set[str]:
        """Columns of the author that the statement loading these posts must join in."""
        columns: set[str] = set()
        for f in self.fields:
            if isinstance(f, Joined):
                columns |= f.node.columns
        return columns


@dataclass(eq=False)
class Joined(Field):
    """A to-one relation whose columns came with the parent row (``Post.author``)."""

    key: str
    node: ObjectNode

    def build(self, row: Row, loaded: Loaded) -> Any:
        node = self.node
        return (node._builder or node._compile())(row[AUTHOR], loaded)


@dataclass(eq=False)
class Children(Field):
    """A list relation: ``Post.tags`` or ``Post.sections``."""

    key: str
    relation: Relation
    node: ObjectNode

    def build(self, row: Row, loaded: Loaded) -> Any:
        node = self.node
        build = node._builder or node._compile()
        return [build(child, loaded) for child in loaded[self.relation].get(row["id"], ())]


@dataclass(eq=False)
class PostCount(Field):
    """``Tag.postCount``."""

    key: str

    def build(self, row: Row, loaded: Loaded) -> Any:
        return loaded[self].get(row["id"], 0)


@dataclass(eq=False)
class Lookup(Field):
    """A root field answering one object or null: ``post``, ``tag``, ``author``."""

    key: str
    kind: LookupKind
    definition: GraphQLField
    node_ast: FieldNode
    node: ObjectNode

    def build(self, row: Row, loaded: Loaded) -> Any:
        found: Row | None = loaded[self]
        return None if found is None else self.node.build(found, loaded)


@dataclass(eq=False)
class Edges(Field):
    key: str
    # Response keys of each edge, in order: "cursor", a node, or a __typename constant.
    parts: list[tuple[str, str | Const | ObjectNode]] = field(default_factory=list)


@dataclass(eq=False)
class PageInfo(Field):
    key: str
    # "hasNextPage", "hasPreviousPage", "startCursor", "endCursor" or a __typename constant.
    parts: list[tuple[str, str | Const]] = field(default_factory=list)


@dataclass(eq=False)
class Connection(Field):
    """A Relay connection: ``posts`` (at the root or under a tag or author), ``tags``,
    ``authors``. One statement loads the page of every parent."""

    key: str
    kind: ConnectionKind
    parent: ParentKind | None
    definition: GraphQLField
    node_ast: FieldNode
    # Response keys in order: Edges, PageInfo, "totalCount" or a __typename constant.
    parts: list[tuple[str, Edges | PageInfo | str | Const]] = field(default_factory=list)

    @property
    def wants_total(self) -> bool:
        return any(part == "totalCount" for _, part in self.parts)

    @property
    def wants_page_info(self) -> bool:
        return any(isinstance(part, PageInfo) for _, part in self.parts)

    def nodes(self) -> list[ObjectNode]:
        """The node of every ``edges { node }`` of this connection, aliases included."""
        return [
            node
            for _, edges in self.parts
            if isinstance(edges, Edges)
            for _, node in edges.parts
            if isinstance(node, ObjectNode)
        ]

    def build(self, row: Row, loaded: Loaded) -> Any:
        page: Page = loaded[self][row["id"] if self.parent else None]
        result: dict[str, Any] = {}
        for key, part in self.parts:
            if isinstance(part, Edges):
                result[key] = _edges(part, page, loaded)
            elif isinstance(part, PageInfo):
                result[key] = _page_info(part, page)
            elif isinstance(part, Const):
                result[key] = part.value
            else:  # "totalCount"
                result[key] = page.total
        return result


def _edges(edges: Edges, page: Page, loaded: Loaded) -> list[dict[str, Any]]:
    cursors = page.cursors() if any(p == "cursor" for _, p in edges.parts) else []
    built: list[dict[str, Any]] = []
    for index, row in enumerate(page.rows):
        edge: dict[str, Any] = {}
        for key, part in edges.parts:
            if isinstance(part, ObjectNode):
                edge[key] = part.build(row, loaded)
            elif isinstance(part, Const):
                edge[key] = part.value
            else:  # "cursor"
                edge[key] = cursors[index]
        built.append(edge)
    return built


def _page_info(info: PageInfo, page: Page) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, part in info.parts:
        if part == "hasNextPage":
            result[key] = page.has_next_page
        elif part == "hasPreviousPage":
            result[key] = page.has_previous_page
        elif part == "startCursor":
            result[key] = page.cursors()[0] if page.rows else None
        elif part == "endCursor":
            result[key] = page.cursors()[-1] if page.rows else None
        elif isinstance(part, Const):
            result[key] = part.value
    return result
